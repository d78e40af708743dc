//! A struct's statements on PostgreSQL, declared once: the derive builds them from the
//! model ([`Statements::of`], each a `String`) and quotes them field by field
//! ([`Statements::named`]); the runtime reads the same struct of `&'static str`.

use crate::model::Model;
use crate::postgres::Postgres;
use crate::postgres::bulk::{self, Source};
use crate::postgres::stage;
use crate::single::{self, Returned};

/// Declares [`Statements`] and its [`named`](Statements::named) list from one list of
/// fields, so that the two cannot drift.
macro_rules! statements {
    ($($(#[doc = $doc:literal])* $name:ident,)*) => {
        /// The statements the PostgreSQL calls send, built at compile time. `S` is `String`
        /// where the derive builds them, `&'static str` in the generated constant.
        ///
        /// ```
        /// use upsert_core::postgres::plan::Statements;
        /// use upsert_core::{ConflictTarget, Model, Role, Table};
        ///
        /// let model = Model::new(
        ///     Table { schema: None, name: "tag" },
        ///     ConflictTarget::Keys { predicate: None },
        ///     [("name", Role::Key), ("color", Role::Write)],
        ///     None,
        ///     false,
        /// );
        /// let sql = Statements::of(&model, &[]);
        /// assert!(sql.upsert_sql.contains("ON CONFLICT (\"name\") DO UPDATE"));
        /// assert_eq!(sql.named()[0], ("upsert_sql", &sql.upsert_sql));
        /// ```
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct Statements<S> {
            $($(#[doc = $doc])* pub $name: S,)*
        }

        impl<S> Statements<S> {
            /// Every statement with its field's name, in declaration order (the derive
            /// quotes the constant from this list).
            #[must_use]
            pub fn named(&self) -> Vec<(&'static str, &S)> {
                vec![$((stringify!($name), &self.$name),)*]
            }
        }
    };
}

statements! {
    /// `INSERT .. ON CONFLICT .. DO UPDATE .. RETURNING (xmax = 0)` (`upsert`).
    upsert_sql,
    /// `INSERT .. ON CONFLICT .. DO NOTHING RETURNING (xmax = 0)` (`insert_or_ignore`).
    insert_or_ignore_sql,
    /// The `UNNEST` bulk statement (`upsert_many`).
    upsert_many_sql,
    /// The upsert returning the stored row (`upsert_returning`).
    upsert_returning_sql,
    /// `INSERT .. ON CONFLICT DO NOTHING RETURNING` every field's column (get-or-create).
    insert_or_get_sql,
    /// `SELECT` every field's column by the key (get-or-create).
    select_by_key_sql,
    /// The upsert returning every column of the stored row (`upsert_returning_as`).
    upsert_returning_row_sql,
    /// `INSERT .. ON CONFLICT DO NOTHING RETURNING *` (`insert_or_get_as`).
    insert_or_get_row_sql,
    /// `SELECT *` by the key (`insert_or_get_as`).
    select_row_by_key_sql,
    /// The bulk statement reading the staging table.
    stage_upsert_sql,
    /// The `UNNEST` bulk statement answering one outcome per row (`upsert_many_outcomes`).
    outcomes_sql,
    /// The same, reading the staging table.
    stage_outcomes_sql,
    /// Numbers a staged batch's rounds of distinct keys ([`stage::round_numbers`]).
    rounds_sql,
    /// `COPY` into the staging table.
    stage_copy_sql,
    /// `INSERT` into the staging table, the rows bound as the `UNNEST` statement binds them
    /// plus their ordinals (a connection the caller lends).
    stage_insert_sql,
}

impl Statements<String> {
    /// The statements of `model`, reading back `returned` (each field's column).
    #[must_use]
    pub fn of(model: &Model, returned: &[Returned]) -> Self {
        let pg = &Postgres;
        Statements {
            upsert_sql: single::upsert(pg, model),
            insert_or_ignore_sql: single::insert_or_ignore(pg, model),
            upsert_many_sql: bulk::upsert_many(pg, model, Source::Unnest),
            upsert_returning_sql: single::upsert_returning(pg, model, returned),
            insert_or_get_sql: single::insert_or_ignore_returning(pg, model, returned),
            select_by_key_sql: single::select_by_key(pg, model, returned),
            upsert_returning_row_sql: single::upsert_returning_row(pg, model),
            insert_or_get_row_sql: single::insert_or_ignore_returning_row(pg, model),
            select_row_by_key_sql: single::select_row_by_key(pg, model),
            stage_upsert_sql: bulk::upsert_many(pg, model, Source::Stage),
            outcomes_sql: bulk::upsert_many_outcomes(pg, model, Source::Unnest),
            stage_outcomes_sql: bulk::upsert_many_outcomes(pg, model, Source::Stage),
            rounds_sql: stage::round_numbers(pg, model),
            stage_copy_sql: stage::stage_copy(pg, model),
            stage_insert_sql: stage::stage_insert(pg, model),
        }
    }
}
