//! Schema verification's report (public as `atomic_upsert::schema`, see `lib.rs`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;

pub use upsert_core::verify::{Kind as MismatchKind, Mismatch, Site};

/// Every mismatch found, grouped by struct: one [`StructReport`] for each struct that does
/// not match its table, none for those that do.
///
/// `Display` prints one line per mismatch, each naming the struct, the field and column,
/// what the struct needs, what the table has, and the fix.
///
/// ```
/// use atomic_upsert::schema::{Mismatch, MismatchKind, SchemaReport, Site, StructReport};
///
/// let report = SchemaReport::from(vec![StructReport {
///     name: "Tag",
///     table: "\"tag\"".into(),
///     mismatches: vec![Mismatch {
///         kind: MismatchKind::MissingColumn,
///         site: Site::Field(1),
///         field: Some("color".into()),
///         column: Some("color".into()),
///         needs: "a column to write".into(),
///         has: "no such column".into(),
///         fix: "#[upsert(rename = \"..\")] on the field, or add the column: ALTER TABLE \"tag\" ADD COLUMN \"color\" text;".into(),
///     }],
/// }]);
/// assert_eq!(
///     report.to_string(),
///     "1 schema mismatch:\n  Tag (table \"tag\"): field `color`, column \"color\": needs a column to write; \
///      found no such column; fix: #[upsert(rename = \"..\")] on the field, or add the column: ALTER TABLE \"tag\" ADD COLUMN \"color\" text;"
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaReport {
    structs: Vec<StructReport>,
}

/// The mismatches of one struct.
///
/// ```
/// let report = atomic_upsert::schema::StructReport { name: "Tag", table: "\"tag\"".into(), mismatches: vec![] };
/// assert!(report.mismatches.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructReport {
    /// The struct's name.
    pub name: &'static str,
    /// Its table, quoted as the statements write it.
    pub table: String,
    /// Every mismatch, in field order, then the table's and the conflict target's.
    pub mismatches: Vec<Mismatch>,
}

impl SchemaReport {
    /// The structs that mismatch.
    ///
    /// ```
    /// assert!(atomic_upsert::schema::SchemaReport::default().structs().is_empty());
    /// ```
    #[must_use]
    pub fn structs(&self) -> &[StructReport] {
        &self.structs
    }

    /// Every mismatch with its struct's name.
    ///
    /// ```
    /// assert_eq!(atomic_upsert::schema::SchemaReport::default().mismatches().count(), 0);
    /// ```
    pub fn mismatches(&self) -> impl Iterator<Item = (&'static str, &Mismatch)> {
        self.structs
            .iter()
            .flat_map(|s| s.mismatches.iter().map(move |m| (s.name, m)))
    }

    /// Whether nothing mismatches.
    ///
    /// ```
    /// assert!(atomic_upsert::schema::SchemaReport::default().is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.structs.iter().all(|s| s.mismatches.is_empty())
    }

    pub(crate) fn extend(&mut self, other: SchemaReport) {
        self.structs.extend(other.structs);
    }
}

/// A mismatch found by a backend's own `verify` (SQLite's, MySQL's), from its parts.
#[cfg(any(feature = "sqlite", feature = "mysql"))]
pub(crate) fn mismatch(
    kind: MismatchKind,
    site: Site,
    field: Option<&str>,
    column: Option<&str>,
    [needs, has, fix]: [String; 3],
) -> Mismatch {
    Mismatch {
        kind,
        site,
        field: field.map(str::to_owned),
        column: column.map(str::to_owned),
        needs,
        has,
        fix,
    }
}

/// What `verify` of struct `name` on `table` answers: `Ok` without mismatches, else one
/// [`StructReport`] inside [`Error::SchemaMismatch`](crate::Error::SchemaMismatch). The
/// table is named as PostgreSQL's report names it (`"schema"."table"`), on every backend.
#[cfg(any(feature = "sqlite", feature = "mysql"))]
pub(crate) fn verified(
    name: &'static str,
    table: &crate::error::TableKey,
    mismatches: Vec<Mismatch>,
) -> Result<(), crate::error::Error> {
    use upsert_core::Dialect as _;
    if mismatches.is_empty() {
        Ok(())
    } else {
        Err(crate::error::Error::SchemaMismatch(SchemaReport::from(
            vec![StructReport {
                name,
                table: upsert_core::Postgres.quote_table(&upsert_core::Table {
                    schema: table.schema,
                    name: table.table,
                }),
                mismatches,
            }],
        )))
    }
}

impl From<Vec<StructReport>> for SchemaReport {
    fn from(structs: Vec<StructReport>) -> Self {
        SchemaReport {
            structs: structs
                .into_iter()
                .filter(|s| !s.mismatches.is_empty())
                .collect(),
        }
    }
}

impl fmt::Display for SchemaReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.mismatches().count();
        write!(
            f,
            "{count} schema mismatch{}:",
            if count == 1 { "" } else { "es" }
        )?;
        for s in &self.structs {
            for m in &s.mismatches {
                write!(f, "\n  {} (table {}): {m}", s.name, s.table)?;
            }
        }
        Ok(())
    }
}

/// What a registered `verify` returns.
pub type VerifyFuture<'c> =
    Pin<Box<dyn Future<Output = Result<(), crate::error::Error>> + Send + 'c>>;

/// A struct's `verify` on a connection `C`, as the derive registers it for
/// [`verify_all`](crate::verify_all).
pub type RegisteredVerify<C> = for<'c> fn(&'c mut C) -> VerifyFuture<'c>;

/// A struct's `verify` on one backend's connection `C`, registered by the derive (one
/// `inventory` registry per backend) for [`verify_all`](crate::verify_all).
pub struct Registered<C: 'static> {
    /// The struct's name.
    pub name: &'static str,
    /// Runs `T::verify` on a connection.
    pub verify: RegisteredVerify<C>,
}

impl<C: 'static> Registered<C> {
    /// Every registered struct of the backend: its name and its `verify`.
    pub(crate) fn all() -> Vec<(&'static str, RegisteredVerify<C>)>
    where
        Self: inventory::Collect,
    {
        inventory::iter::<Self>()
            .map(|registered| (registered.name, registered.verify))
            .collect()
    }
}

/// A backend's registry for [`verify_all`](crate::verify_all), in the backend's `verify.rs`
/// (which has `mismatches::<T>`): the `inventory` collection, `VerifiesAll`, and the
/// autoref probe pair the derive calls, by which a struct the backend cannot take
/// registers a verify that checks nothing.
#[cfg(any(feature = "sqlite", feature = "mysql"))]
macro_rules! verify_registry {
    (
        $name:literal: $db:ty, $conn:ty, $generated:path,
        $probe:ident, $probe_not:ident, $method:ident
    ) => {
        // The structs' `verify`s, registered by the derive with the backend's feature.
        inventory::collect!(Registered<$conn>);

        impl VerifiesAll for $db {
            fn registered() -> Vec<(&'static str, RegisteredVerify<$conn>)> {
                Registered::all()
            }
        }

        #[doc = concat!("The probe of a struct ", $name, " can take: its ", $name, " `verify`.")]
        pub trait $probe {
            #[doc = concat!("`T::verify` on ", $name, ", on a connection.")]
            fn $method(&self) -> RegisteredVerify<$conn>;
        }

        impl<T: $generated + Generated + 'static> $probe for Probe<T> {
            fn $method(&self) -> RegisteredVerify<$conn> {
                verify_struct::<T>
            }
        }

        #[doc = concat!("The probe of any other type (a struct that uses what ", $name, " lacks): nothing to check.")]
        pub trait $probe_not {
            /// A verify that checks nothing.
            fn $method(&self) -> RegisteredVerify<$conn>;
        }

        impl<T: ?Sized> $probe_not for &Probe<T> {
            fn $method(&self) -> RegisteredVerify<$conn> {
                |_| Box::pin(std::future::ready(Ok(())))
            }
        }

        #[doc = concat!("`T::verify` on ", $name, ": every mismatch in one [`Error::SchemaMismatch`].")]
        pub(super) fn verify_struct<T>(conn: &mut $conn) -> VerifyFuture<'_>
        where
            T: $generated + Generated,
        {
            Box::pin(async move {
                let mismatches = mismatches::<T>(conn).await.map_err(Error::Sqlx)?;
                verified(T::PLAN.struct_name, &T::KEY, mismatches)
            })
        }
    };
}

#[cfg(any(feature = "sqlite", feature = "mysql"))]
pub(crate) use verify_registry;

/// What [`verify!`](crate::verify) gathers: the mismatches of each struct checked, so that
/// one call reports every mismatch of a list of structs. Not public API.
#[derive(Default)]
pub struct Gathered(SchemaReport);

impl Gathered {
    /// Keeps a struct's mismatches; any other error ends the check.
    ///
    /// # Errors
    /// The struct's error, when it is not a [`SchemaMismatch`](crate::Error::SchemaMismatch).
    pub fn add(
        &mut self,
        checked: Result<(), crate::error::Error>,
    ) -> Result<(), crate::error::Error> {
        match checked {
            Ok(()) => Ok(()),
            Err(crate::error::Error::SchemaMismatch(report)) => {
                self.0.extend(report);
                Ok(())
            }
            Err(other) => Err(other),
        }
    }

    /// `Ok` when no struct mismatched, else every mismatch in one report.
    ///
    /// # Errors
    /// [`SchemaMismatch`](crate::Error::SchemaMismatch) with every mismatching struct.
    pub fn finish(self) -> Result<(), crate::error::Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(crate::error::Error::SchemaMismatch(self.0))
        }
    }
}

/// Checks the listed structs against their tables, on one connection, and returns one
/// [`Error::SchemaMismatch`](crate::Error::SchemaMismatch) naming every struct that
/// mismatches: [`AtomicUpsert::verify`](crate::AtomicUpsert::verify) for a list, where
/// `verify` alone stops at the first struct. On any backend, through any executor
/// `verify` takes (`&pool`, `&mut *conn`, `&mut *tx`). [`verify_all`](crate::verify_all)
/// checks every derived struct of the program instead.
///
/// ```no_run
/// use atomic_upsert::AtomicUpsert;
///
/// #[derive(AtomicUpsert)]
/// struct Tag { #[conflict_key] name: String }
/// #[derive(AtomicUpsert)]
/// struct Label { #[conflict_key] id: i64, text: String }
///
/// # async fn run(pool: atomic_upsert::sqlx::PgPool) -> Result<(), atomic_upsert::Error> {
/// atomic_upsert::verify!(&pool, Tag, Label).await?;
/// # Ok(()) }
/// ```
#[macro_export]
macro_rules! verify {
    ($executor:expr, $($ty:ty),+ $(,)?) => {
        async {
            let mut conn = $crate::sqlx::Acquire::acquire($executor)
                .await
                .map_err($crate::Error::Sqlx)?;
            let mut gathered = $crate::private::Gathered::default();
            $(
                gathered.add(<$ty as $crate::AtomicUpsert>::verify(&mut *conn).await)?;
            )+
            gathered.finish()
        }
    };
}
