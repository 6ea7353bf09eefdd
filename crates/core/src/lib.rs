//! learnloop's core: domain types, rules and storage. No HTTP here.
//!
//! Each domain is a module named as users name it (`agencies`, `groups`, ...). Inside a domain:
//! its types and rules, then its store functions, which take a connection or transaction.

pub mod access;
pub mod actions;
pub mod agencies;
pub mod anonymise;
pub mod audit;
pub mod backup;
pub mod calendar;
pub mod cases;
pub mod clock;
pub mod data_version;
pub mod db;
pub mod deadlines;
pub mod decisions;
pub mod demo;
pub mod error;
pub mod figures;
pub mod generate;
pub mod groups;
pub mod identity;
pub mod learning;
pub mod library;
// Above the library and the domains: reads both for the library's pages.
pub mod library_views;
pub mod mail;
pub mod migration;
pub mod partnerships;
pub mod people;
pub mod published;
pub mod rapid_reviews;
pub mod reminders;
pub mod retention;
pub mod review_types;
pub mod reviews;
pub mod settings;
pub mod setup;
pub mod step_up;
pub mod themes;
pub mod tokens;
pub mod validate;
pub mod viewer;

pub use db::Db;
pub use error::{CoreError, FieldError};
