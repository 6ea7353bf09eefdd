//! An audit event before it is numbered and chained: what the trail records. Its own module,
//! below the trail and the error type, so an error can carry the entry of a refusal.

use uuid::Uuid;

use crate::access::Actor;

/// What happened, before it is numbered and chained.
#[derive(Debug, Clone, Default)]
pub struct Event {
    pub actor_person_id: Option<Uuid>,
    pub actor_agency_id: Option<Uuid>,
    pub actor_role: Option<String>,
    pub action: String,
    pub record_type: Option<String>,
    pub record_id: Option<String>,
    pub source: Option<String>,
    pub reason: Option<String>,
    pub outcome: String,
}

impl Event {
    pub fn new(action: &str, outcome: &str) -> Self {
        Event {
            action: action.to_string(),
            outcome: outcome.to_string(),
            ..Event::default()
        }
    }

    pub fn by(mut self, actor: &Actor) -> Self {
        self.actor_person_id = Some(actor.person_id);
        self.actor_agency_id = Some(actor.agency_id);
        self.actor_role = actor.principal_role().map(|role| role.as_str().to_string());
        self
    }

    pub fn by_person(mut self, person_id: Uuid, agency_id: Uuid) -> Self {
        self.actor_person_id = Some(person_id);
        self.actor_agency_id = Some(agency_id);
        self
    }

    pub fn on(mut self, record_type: &str, record_id: impl ToString) -> Self {
        self.record_type = Some(record_type.to_string());
        self.record_id = Some(record_id.to_string());
        self
    }

    pub fn from_source(mut self, source: Option<String>) -> Self {
        self.source = source;
        self
    }

    pub fn because(mut self, reason: Option<String>) -> Self {
        self.reason = reason;
        self
    }
}
