#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The first day of a real installation (issue 14): `learnloop init`'s core sets up an empty
//! database, and the first administrator takes it from there through the pages. Bad agency
//! lists name their row and column and write nothing; init runs once. Every name is invented.

use learnloop_core::clock::Clock;
use learnloop_core::identity::totp;
use learnloop_core::setup::{self, AgencyList, FirstPerson, Partnerships, Setup, SetupError};
use learnloop_core::{Db, agencies, audit, people, settings};
use learnloop_testkit::browser::csrf_in;
use learnloop_testkit::{Backend, TestApp, TestDatabase, on_both_databases};

const TEAM: &str = "Northmoor Safeguarding Partnerships (fictional)";
const ADMIN: &str = "avery.quill@northmoor.example";
const MANAGER: &str = "rowan.tealby@northmoor.example";

const AGENCIES: &str = "name,kind,code\n\
    Northmoor Safeguarding Partnerships Team,partnership_team,nsp-team\n\
    Northmoor Council Children's Services,childrens_social_care,nmc-children\n\
    Northmoor Constabulary,Police,NM-POLICE\n\
    Northmoor Integrated Care Board,integrated_care_board,nm-icb\n";

fn input(list: AgencyList) -> Setup {
    Setup {
        team_name: TEAM.to_string(),
        partnerships: Partnerships {
            children: Some("Northmoor Children's Safeguarding Partnership".to_string()),
            adults: Some("Northmoor Safeguarding Adults Board".to_string()),
            community_safety: None,
        },
        agencies: list,
        administrator: FirstPerson {
            name: "Avery Quill".to_string(),
            email: ADMIN.to_string(),
            agency: "nsp-team".to_string(),
        },
        business_manager: FirstPerson {
            name: "Rowan Tealby".to_string(),
            email: MANAGER.to_string(),
            agency: "nsp-team".to_string(),
        },
    }
}

fn csv(text: &str) -> AgencyList {
    AgencyList::read("agencies.csv", text.as_bytes()).unwrap()
}

/// How many rows each table init writes to holds.
async fn counts(db: &Db) -> [u64; 4] {
    let conn = db.conn();
    [
        learnloop_core::partnerships::list(conn)
            .await
            .unwrap()
            .len() as u64,
        agencies::count(conn).await.unwrap(),
        learnloop_core::groups::count(conn).await.unwrap(),
        people::count(conn).await.unwrap(),
    ]
}

async fn assert_nothing_written(db: &Db) {
    assert_eq!(
        counts(db).await,
        [0, 0, 0, 0],
        "no partnership, agency, group or person"
    );
    assert_eq!(
        settings::get(db.conn(), settings::TEAM_NAME).await.unwrap(),
        None
    );
}

/// Follows a one-time link and sets the password.
async fn set_password(app: &TestApp, secret: &str, password: &str) {
    let path = format!("/password-reset/{secret}");
    let mut visitor = app.browser();
    let (status, form) = visitor.get_text(&path).await;
    assert_eq!(status, 200, "the link opens");
    visitor.csrf = csrf_in(&form);
    let done = visitor.post_form(&path, &[("password", password)]).await;
    assert!(done.text().await.unwrap().contains("Your password is set"));
}

async fn first_day(backend: Backend) {
    // An empty, migrated database: no demo.
    let database = TestDatabase::create(backend).await;
    let db = Db::connect(&database.url).await.unwrap();
    db.migrate().await.unwrap();
    let created = setup::run(&db, &input(csv(AGENCIES)), "test", chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(created.partnerships.len(), 2);
    assert_eq!(created.agencies.len(), 4);
    assert_eq!(
        created.agencies[2].code, "nm-police",
        "codes are stored lower case"
    );
    assert_eq!(counts(&db).await, [2, 4, 5, 2]);

    // The app starts on it; the administrator follows their link and sets a password.
    let app = TestApp::serve(backend, database, db).await;
    let password = "a long walk along the northmoor canal";
    set_password(&app, &created.administrator.reset_secret, password).await;
    assert_eq!(
        app.get_text(&format!(
            "/password-reset/{}",
            created.administrator.reset_secret
        ))
        .await
        .0,
        404,
        "the link works once"
    );

    // Signing in, they enrol their second factor.
    let mut admin = app.browser();
    let (_, html) = admin.get_text("/sign-in").await;
    admin.csrf = csrf_in(&html);
    let response = admin
        .post_form("/sign-in", &[("email", ADMIN), ("password", password)])
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"].to_str().unwrap(),
        "/sign-in/second-factor"
    );
    let (status, html) = admin.get_text("/sign-in/second-factor").await;
    assert_eq!(status, 200);
    assert!(html.contains("Set up your second factor"), "enrolment");
    assert!(html.contains(TEAM), "the team's name is in the header");
    let marker = "id=\"totp-secret\">";
    let start = html.find(marker).unwrap() + marker.len();
    let secret = html[start..start + html[start..].find('<').unwrap()].to_string();
    admin.csrf = csrf_in(&html);
    let code = totp::current_code(&secret, app.clock.now()).unwrap();
    let enrolled = admin
        .post_form("/sign-in/second-factor", &[("code", &code)])
        .await;
    assert_eq!(enrolled.status(), 200, "recovery codes shown");

    // They add the police's safeguarding lead through the admin pages.
    admin.refresh_csrf().await;
    let (status, form) = admin.get_text("/admin/people/new").await;
    assert_eq!(status, 200);
    assert!(
        form.contains("Northmoor Constabulary"),
        "the agencies are offered"
    );
    let police = agencies::find_by_code(app.db.conn(), "nm-police")
        .await
        .unwrap()
        .unwrap();
    let police_id = police.id.to_string();
    let added = admin
        .post_form(
            "/admin/people/new",
            &[
                ("name", "Jordan Fenwick"),
                ("email", "jordan.fenwick@northmoor.example"),
                ("agency_id", &police_id),
                ("role", "agency_lead"),
            ],
        )
        .await;
    assert_eq!(added.status(), 303, "{}", added.text().await.unwrap());
    let person = people::find_by_email(app.db.conn(), "jordan.fenwick@northmoor.example")
        .await
        .unwrap()
        .expect("the person exists");
    assert_eq!(person.agency_id, police.id);

    // The business manager's link is still good, and the trail holds every step, intact.
    set_password(&app, &created.business_manager.reset_secret, password).await;
    let actions = app
        .query_strings("SELECT action FROM audit_log ORDER BY seq")
        .await;
    assert_eq!(actions.first().map(String::as_str), Some("setup.init"));
    for (action, times) in [
        ("partnership.created", 2),
        ("agency.created", 4),
        ("group.created", 5),
        ("password_reset.issue", 2),
        // The business manager's, and the agency lead's added on the page.
        ("grant.case_access_added", 2),
    ] {
        assert_eq!(
            actions.iter().filter(|a| *a == action).count(),
            times,
            "{action} in {actions:?}"
        );
    }
    assert!(actions.iter().filter(|a| *a == "person.create").count() >= 3);
    let report = audit::verify(app.db.conn(), |_| {}).await.unwrap();
    assert_eq!(report.first_problem, None);
    assert!(report.entries_checked > 20);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_day_sqlite() {
    first_day(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_day_postgres() {
    first_day(Backend::Postgres).await;
}

on_both_databases!(
    bad_agency_lists_name_the_row_and_column_and_write_nothing,
    empty,
    |app| async move {
        let cases = [
            (
                "name,kind,code\nTeam,partnership_team,AGY1\nPolice,police,agy2\nTrust,nhs_acute_trust,AGY1\n",
                "agencies.csv row 4, column code: AGY1 is already used on row 2",
            ),
            (
                "name,kind,code\nTeam,partnership_team,team\nPolice,constabulary,police\n",
                "agencies.csv row 3, column kind: constabulary is not a kind of agency; use one of: childrens_social_care, adult_social_care, police,",
            ),
            (
                "name,kind,code\nTeam,partnership_team,team\n ,police,police\n",
                "agencies.csv row 3, column name: enter the agency's name",
            ),
        ];
        for (list, expected) in cases {
            let error = setup::run(&app.db, &input(csv(list)), "test", chrono::Utc::now())
                .await
                .expect_err("refused");
            let SetupError::Invalid { rows, .. } = &error else {
                panic!("{error}");
            };
            assert_eq!(rows.len(), 1, "{rows:?}");
            assert!(
                rows[0].describe("agencies.csv").starts_with(expected),
                "{} should start with {expected}",
                rows[0].describe("agencies.csv")
            );
            assert!(error.to_string().starts_with(expected), "{error}");
            assert_nothing_written(&app.db).await;
        }
    }
);

on_both_databases!(
    a_refusal_while_writing_rolls_everything_back,
    empty,
    |app| async move {
        // An agency already stored with a code the list uses (no partnership, so init runs):
        // its row is refused after the team name and partnerships were written.
        let txn = app.db.write().await.unwrap();
        agencies::create(
            &txn,
            agencies::NewAgency {
                code: "nm-icb".to_string(),
                name: "An older Northmoor record".to_string(),
                agency_type: agencies::AgencyType::Other,
                partnership_ids: Vec::new(),
            },
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
        let error = setup::run(&app.db, &input(csv(AGENCIES)), "test", chrono::Utc::now())
            .await
            .expect_err("refused");
        assert!(
            error
                .to_string()
                .starts_with("agencies.csv row 5, column code: An agency with this code"),
            "{error}"
        );
        assert_eq!(counts(&app.db).await, [0, 1, 0, 0], "only the older agency");
        assert_eq!(
            settings::get(app.db.conn(), settings::TEAM_NAME)
                .await
                .unwrap(),
            None
        );
        let entries = app.query_strings("SELECT action FROM audit_log").await;
        assert!(!entries.iter().any(|action| action.starts_with("setup.")));
    }
);

on_both_databases!(init_runs_once, empty, |app| async move {
    setup::run(&app.db, &input(csv(AGENCIES)), "test", chrono::Utc::now())
        .await
        .unwrap();
    let before = counts(&app.db).await;
    let mut again = input(csv(AGENCIES));
    again.administrator.email = "someone.else@northmoor.example".to_string();
    again.business_manager.email = "another.one@northmoor.example".to_string();
    let error = setup::run(&app.db, &again, "test", chrono::Utc::now())
        .await
        .expect_err("refused");
    assert!(matches!(error, SetupError::AlreadySetUp(_)), "{error}");
    assert!(
        error
            .to_string()
            .starts_with("this database is already set up"),
        "{error}"
    );
    assert!(!error.to_string().contains('\n'), "one line");
    assert_eq!(counts(&app.db).await, before);
});

on_both_databases!(init_refuses_the_demo_database, demo, |app| async move {
    let error = setup::run(&app.db, &input(csv(AGENCIES)), "test", chrono::Utc::now())
        .await
        .expect_err("refused");
    assert!(matches!(error, SetupError::AlreadySetUp(_)), "{error}");
});

on_both_databases!(an_xlsx_agency_list_works, empty, |app| async move {
    use learnloop_office::Cell;
    let rows: Vec<Vec<Cell>> = AGENCIES
        .lines()
        .skip(1)
        .map(|line| {
            line.split(',')
                .map(|cell| Cell::Text(cell.to_string()))
                .collect()
        })
        .collect();
    let bytes = learnloop_office::write_xlsx("Agencies", &["name", "kind", "code"], &rows).unwrap();
    let list = AgencyList::read("agencies.xlsx", &bytes).unwrap();
    let created = setup::run(&app.db, &input(list), "test", chrono::Utc::now())
        .await
        .unwrap();
    let codes: Vec<&str> = created.agencies.iter().map(|a| a.code.as_str()).collect();
    assert_eq!(codes, ["nsp-team", "nmc-children", "nm-police", "nm-icb"]);
    assert_eq!(counts(&app.db).await, [2, 4, 5, 2]);

    // A bad row in a workbook is named the same way.
    let mut bad = rows.clone();
    bad[1][1] = Cell::Text("social services".to_string());
    let bytes = learnloop_office::write_xlsx("Agencies", &["name", "kind", "code"], &bad).unwrap();
    let rows = AgencyList::read("agencies.xlsx", &bytes)
        .unwrap()
        .check()
        .expect_err("refused");
    assert_eq!(
        (rows[0].row, rows[0].column.as_str()),
        (3, "kind"),
        "{rows:?}"
    );
});
