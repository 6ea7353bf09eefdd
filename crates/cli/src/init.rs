//! `learnloop init`: sets up a new installation from flags, a TOML file (`--from`), or answers
//! typed at a terminal when stdin is one and something required is missing. The rules, checks
//! and writing are core's (`learnloop_core::setup`); this gathers the answers and prints what
//! was created, with the two one-time links.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Toml};
use learnloop_core::people;
use learnloop_core::setup::{
    self, AgencyList, AgencyRow, Created, FirstPerson, Partnerships, Setup, SetupError,
};
use serde::Deserialize;

use crate::commands;
use crate::settings::{DEFAULT_DATABASE, Settings};

#[derive(clap::Args, Debug, Default)]
pub struct InitArgs {
    /// A TOML file with the answers, for scripted installs (see the README); flags given as
    /// well win over it.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// The agency list: a CSV or .xlsx file with the columns name, kind, code.
    #[arg(long, value_name = "FILE")]
    pub agencies: Option<PathBuf>,
    /// Print a template of the agency list (CSV) and exit.
    #[arg(long)]
    pub agency_template: bool,
    /// The team's name, shown at the top of every page.
    #[arg(long, value_name = "NAME")]
    pub team_name: Option<String>,
    /// The name of the children's safeguarding partnership, if the team serves one.
    #[arg(long, value_name = "NAME")]
    pub children_partnership: Option<String>,
    /// The name of the safeguarding adults board, if the team serves one.
    #[arg(long, value_name = "NAME")]
    pub adults_board: Option<String>,
    /// The name of the community safety partnership, if the team serves one.
    #[arg(long, value_name = "NAME")]
    pub community_safety_partnership: Option<String>,
    /// The first system administrator's name.
    #[arg(long, value_name = "NAME")]
    pub admin_name: Option<String>,
    #[arg(long, value_name = "ADDRESS")]
    pub admin_email: Option<String>,
    /// The code of the administrator's agency, from the agency list.
    #[arg(long, value_name = "CODE")]
    pub admin_agency: Option<String>,
    /// The business manager's name.
    #[arg(long, value_name = "NAME")]
    pub manager_name: Option<String>,
    #[arg(long, value_name = "ADDRESS")]
    pub manager_email: Option<String>,
    /// The code of the business manager's agency, from the agency list.
    #[arg(long, value_name = "CODE")]
    pub manager_agency: Option<String>,
    #[arg(long)]
    pub database: Option<String>,
}

/// The `--from` file. Unknown keys are refused, so a typo is not silently ignored.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct InitFile {
    team_name: Option<String>,
    /// Relative to the TOML file's folder.
    agencies: Option<PathBuf>,
    #[serde(default)]
    partnerships: FilePartnerships,
    #[serde(default)]
    administrator: FilePerson,
    #[serde(default)]
    business_manager: FilePerson,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FilePartnerships {
    children: Option<String>,
    adults: Option<String>,
    community_safety: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FilePerson {
    name: Option<String>,
    email: Option<String>,
    agency: Option<String>,
}

fn read_file(path: &Path) -> Result<InitFile, String> {
    if !path.is_file() {
        return Err(format!("--from: {} does not exist", path.display()));
    }
    // Figment's messages name the file and the key.
    Figment::from(Toml::file_exact(path))
        .extract::<InitFile>()
        .map_err(|error| format!("--from: {}", error.to_string().replace('\n', " ")))
}

/// The flag and file key of each field core names, for messages.
fn flag_for(field: &str) -> &'static str {
    match field {
        "team_name" => "--team-name",
        "partnerships" => {
            "--children-partnership, --adults-board or --community-safety-partnership"
        }
        "partnerships.children" => "--children-partnership",
        "partnerships.adults" => "--adults-board",
        "partnerships.community_safety" => "--community-safety-partnership",
        "administrator.name" => "--admin-name",
        "administrator.email" => "--admin-email",
        "administrator.agency" => "--admin-agency",
        "business_manager.name" => "--manager-name",
        "business_manager.email" => "--manager-email",
        "business_manager.agency" => "--manager-agency",
        _ => "",
    }
}

/// One line for `main` to print after "learnloop: ".
fn explain(error: SetupError) -> String {
    match error {
        SetupError::Invalid {
            file_name,
            rows,
            fields,
        } => rows
            .iter()
            .map(|row| row.describe(&file_name))
            .chain(fields.iter().map(|field| match flag_for(&field.field) {
                "" => format!("{}: {}", field.field, field.message),
                flag => format!("{} ({flag}): {}", field.field, field.message),
            }))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// Asks on stderr and reads one line from stdin.
fn ask(question: &str) -> Result<String, String> {
    eprint!("{question}: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let read = std::io::stdin()
        .read_line(&mut line)
        .map_err(|error| format!("cannot read the answer: {error}"))?;
    if read == 0 {
        return Err("the input ended before every question was answered".to_string());
    }
    Ok(line.trim().to_string())
}

/// Gathers the answers: what was given, else asked at a terminal, else noted as missing.
struct Answers {
    interactive: bool,
    missing: Vec<&'static str>,
}

impl Answers {
    fn required(
        &mut self,
        given: Option<String>,
        question: &str,
        flag: &'static str,
        check: impl Fn(&str) -> Option<String>,
    ) -> Result<String, String> {
        if let Some(value) = given
            .map(|value| value.trim().to_string())
            .filter(|value| !value.is_empty())
        {
            return Ok(value);
        }
        if !self.interactive {
            self.missing.push(flag);
            return Ok(String::new());
        }
        loop {
            let answer = ask(question)?;
            match (answer.is_empty(), check(&answer)) {
                (true, _) => eprintln!("  An answer is needed."),
                (false, Some(problem)) => eprintln!("  {problem}"),
                (false, None) => return Ok(answer),
            }
        }
    }

    fn person(
        &mut self,
        title: &str,
        flags: [&'static str; 3],
        given: FilePerson,
        agencies: &[AgencyRow],
    ) -> Result<FirstPerson, String> {
        let no_check = |_: &str| None;
        let email_check = |answer: &str| {
            let mut errors = Vec::new();
            people::parse_email("email", answer, &mut errors);
            errors.first().map(|error| error.message.clone())
        };
        let codes: Vec<&str> = agencies.iter().map(|row| row.code.as_str()).collect();
        let agency_check = |answer: &str| {
            let code = answer.to_ascii_lowercase();
            (!codes.contains(&code.as_str()))
                .then(|| format!("No agency in the list has the code {answer}"))
        };
        let agency_question = if codes.len() <= 20 {
            format!("{title}'s agency code ({})", codes.join(", "))
        } else {
            format!("{title}'s agency code, from the agency list")
        };
        Ok(FirstPerson {
            name: self.required(given.name, &format!("{title}'s name"), flags[0], no_check)?,
            email: self.required(
                given.email,
                &format!("{title}'s email address"),
                flags[1],
                email_check,
            )?,
            agency: self.required(given.agency, &agency_question, flags[2], agency_check)?,
        })
    }

    /// The partnerships given, or asked for until at least one is named.
    fn partnerships(&mut self, given: Partnerships) -> Result<Partnerships, String> {
        if !given.named().is_empty() {
            return Ok(given);
        }
        if !self.interactive {
            self.missing.push(
                "a partnership (--children-partnership, --adults-board or --community-safety-partnership)",
            );
            return Ok(given);
        }
        eprintln!("Name each partnership the team serves; press Enter to skip one it does not.");
        loop {
            let asked = Partnerships {
                children: Some(ask("Children's safeguarding partnership")?),
                adults: Some(ask("Safeguarding adults board")?),
                community_safety: Some(ask("Community safety partnership")?),
            };
            if !asked.named().is_empty() {
                return Ok(asked);
            }
            eprintln!("  At least one partnership is needed.");
        }
    }

    /// Reads and checks the agency list; at a terminal, asks again until one is good.
    fn agencies(&mut self, given: Option<PathBuf>) -> Result<(AgencyList, Vec<AgencyRow>), String> {
        let mut path = match given {
            Some(path) => path,
            None if self.interactive => PathBuf::from(ask(
                "Agency list (a CSV or .xlsx file with the columns name, kind, code; `learnloop init --agency-template` prints one)",
            )?),
            None => {
                self.missing.push("--agencies");
                return Ok((AgencyList::default(), Vec::new()));
            }
        };
        loop {
            let problems = match load_agencies(&path) {
                Ok(loaded) => return Ok(loaded),
                Err(problems) => problems,
            };
            if !self.interactive {
                return Err(problems.join("; "));
            }
            for problem in problems {
                eprintln!("  {problem}");
            }
            path = PathBuf::from(ask("Agency list, corrected")?);
        }
    }
}

fn load_agencies(path: &Path) -> Result<(AgencyList, Vec<AgencyRow>), Vec<String>> {
    let bytes = std::fs::read(path)
        .map_err(|error| vec![format!("cannot read {}: {error}", path.display())])?;
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let list = AgencyList::read(&name, &bytes).map_err(|message| vec![message])?;
    match list.check() {
        Ok(rows) => Ok((list, rows)),
        Err(errors) => Err(errors
            .iter()
            .map(|error| error.describe(&list.file_name))
            .collect()),
    }
}

pub async fn run(settings: Settings, args: InitArgs) -> Result<(), String> {
    if args.agency_template {
        print!("{}", setup::agency_list::TEMPLATE);
        return Ok(());
    }
    let file = match &args.from {
        Some(path) => read_file(path)?,
        None => InitFile::default(),
    };
    let file_folder = args
        .from
        .as_deref()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    // Refused before any question, so nobody types answers for a database already set up.
    let db = commands::open(&settings.database_or(DEFAULT_DATABASE)).await?;
    if let Some(existing) = setup::already_set_up(db.conn())
        .await
        .map_err(|error| error.to_string())?
    {
        return Err(SetupError::AlreadySetUp(existing).to_string());
    }
    let mut answers = Answers {
        interactive: std::io::stdin().is_terminal(),
        missing: Vec::new(),
    };
    let team_name = answers.required(
        args.team_name.or(file.team_name),
        "The team's name (shown at the top of every page)",
        "--team-name",
        |_| None,
    )?;
    let partnerships = answers.partnerships(Partnerships {
        children: args.children_partnership.or(file.partnerships.children),
        adults: args.adults_board.or(file.partnerships.adults),
        community_safety: args
            .community_safety_partnership
            .or(file.partnerships.community_safety),
    })?;
    let (agencies, rows) = answers.agencies(
        args.agencies
            .or(file.agencies.map(|path| file_folder.join(path))),
    )?;
    let administrator = answers.person(
        "The system administrator",
        ["--admin-name", "--admin-email", "--admin-agency"],
        FilePerson {
            name: args.admin_name.or(file.administrator.name),
            email: args.admin_email.or(file.administrator.email),
            agency: args.admin_agency.or(file.administrator.agency),
        },
        &rows,
    )?;
    let business_manager = answers.person(
        "The business manager",
        ["--manager-name", "--manager-email", "--manager-agency"],
        FilePerson {
            name: args.manager_name.or(file.business_manager.name),
            email: args.manager_email.or(file.business_manager.email),
            agency: args.manager_agency.or(file.business_manager.agency),
        },
        &rows,
    )?;
    if !answers.missing.is_empty() {
        return Err(format!(
            "missing {}: give them as flags or in --from FILE, or run learnloop init in a terminal to be asked",
            answers.missing.join(", ")
        ));
    }
    let input = Setup {
        team_name,
        partnerships,
        agencies,
        administrator,
        business_manager,
    };
    let created = setup::run(&db, &input, "cli", chrono::Utc::now())
        .await
        .map_err(explain)?;
    print_created(&settings, &created);
    db.close()
        .await
        .map_err(|error| format!("cannot close the database: {error}"))?;
    Ok(())
}

fn print_created(settings: &Settings, created: &Created) {
    println!("Team: {}", created.team_name);
    for partnership in &created.partnerships {
        println!(
            "Partnership: {} ({}, {})",
            partnership.name,
            partnership.code,
            partnership.kind.label()
        );
    }
    for agency in &created.agencies {
        println!(
            "Agency: {} ({}, {})",
            agency.name,
            agency.code,
            agency.agency_type.label()
        );
    }
    for group in &created.groups {
        println!("Group: {} ({})", group.name, group.code);
    }
    for invited in [&created.administrator, &created.business_manager] {
        println!(
            "Person: {} <{}>, {}, {}",
            invited.person.name,
            invited.person.email,
            invited.role.label(),
            invited.agency.name
        );
    }
    println!(
        "Give each person their own link to set a password (each works once, within 24 hours; it is not shown again):"
    );
    for invited in [&created.administrator, &created.business_manager] {
        println!(
            "{} <{}>: {}",
            invited.role.label(),
            invited.person.email,
            commands::reset_link(settings, &invited.reset_secret)
        );
    }
}
