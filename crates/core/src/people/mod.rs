//! People: the staff of member agencies who use learnloop or sit on its groups.

pub mod entity;

use chrono::Utc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use crate::error::{CoreError, CoreResult};
use crate::{FieldError, agencies, validate};
pub use entity::Model as Person;

#[derive(Debug, Clone)]
pub struct NewPerson {
    pub name: String,
    pub email: String,
    pub agency_id: Uuid,
    pub job_title: Option<String>,
}

/// Cleans an email address: trimmed, lower-cased, one `@` with text either side.
pub fn parse_email(field: &str, value: &str, errors: &mut Vec<FieldError>) -> String {
    let email = value.trim().to_lowercase();
    let well_formed = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !email.contains(' ')
        }
        None => false,
    };
    if !well_formed || email.len() > 254 {
        errors.push(FieldError::new(
            field,
            "Enter an email address in the correct format, like name@example.org",
        ));
    }
    email
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> CoreResult<Person> {
    entity::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound)
}

pub async fn find_by_email(db: &impl ConnectionTrait, email: &str) -> CoreResult<Option<Person>> {
    Ok(entity::Entity::find()
        .filter(entity::Column::Email.eq(email.trim().to_lowercase()))
        .one(db)
        .await?)
}

pub async fn list_by_agency(db: &impl ConnectionTrait, agency_id: Uuid) -> CoreResult<Vec<Person>> {
    Ok(entity::Entity::find()
        .filter(entity::Column::AgencyId.eq(agency_id))
        .order_by_asc(entity::Column::Name)
        .all(db)
        .await?)
}

/// Everyone, by name.
pub async fn list(db: &impl ConnectionTrait) -> CoreResult<Vec<Person>> {
    Ok(entity::Entity::find()
        .order_by_asc(entity::Column::Name)
        .all(db)
        .await?)
}

/// Enables or disables the person. The caller ends a disabled person's sessions.
pub async fn set_active(db: &impl ConnectionTrait, id: Uuid, active: bool) -> CoreResult<Person> {
    let person = get(db, id).await?;
    let mut model: entity::ActiveModel = person.into();
    model.active = Set(active);
    Ok(sea_orm::ActiveModelTrait::update(model, db).await?)
}

pub async fn count(db: &impl ConnectionTrait) -> CoreResult<u64> {
    Ok(entity::Entity::find().count(db).await?)
}

pub async fn create(db: &impl ConnectionTrait, input: NewPerson) -> CoreResult<Person> {
    let mut errors = Vec::new();
    let name = validate::required_text("name", &input.name, 200, &mut errors);
    let email = parse_email("email", &input.email, &mut errors);
    let job_title =
        validate::optional_text("job_title", input.job_title.as_deref(), 200, &mut errors);
    if agencies::entity::Entity::find_by_id(input.agency_id)
        .one(db)
        .await?
        .is_none()
    {
        errors.push(FieldError::new("agency_id", "No agency has this id"));
    }
    if errors.is_empty() && find_by_email(db, &email).await?.is_some() {
        errors.push(FieldError::new(
            "email",
            "A person with this email address already exists",
        ));
    }
    if !errors.is_empty() {
        return Err(CoreError::Invalid(errors));
    }
    let model = entity::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        email: Set(email),
        agency_id: Set(input.agency_id),
        job_title: Set(job_title),
        active: Set(true),
        created_at: Set(Utc::now()),
    };
    Ok(entity::Entity::insert(model)
        .exec_with_returning(db)
        .await?)
}

/// Returns the person with this email, creating them when they do not exist yet.
pub async fn ensure(db: &impl ConnectionTrait, input: NewPerson) -> CoreResult<Person> {
    match find_by_email(db, &input.email).await? {
        Some(existing) => Ok(existing),
        None => create(db, input).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_cleaned_and_checked() {
        let mut errors = Vec::new();
        assert_eq!(
            parse_email("email", " Sam.Lee@Example.ORG ", &mut errors),
            "sam.lee@example.org"
        );
        assert!(errors.is_empty());
        for bad in ["", "no-at-sign", "@example.org", "a@b", "a b@example.org"] {
            let mut errors = Vec::new();
            parse_email("email", bad, &mut errors);
            assert_eq!(errors.len(), 1, "{bad} should be refused");
        }
    }
}
