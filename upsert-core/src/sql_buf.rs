//! The statement writer: a string and the dialect that spells its identifiers, so builders
//! pass one value instead of a `(dialect, &mut String)` pair everywhere.

use std::fmt;

use crate::dialect::Dialect;
use crate::model::Table;

/// Statement text under construction.
pub(crate) struct SqlBuf<'d> {
    out: String,
    dialect: &'d dyn Dialect,
}

impl<'d> SqlBuf<'d> {
    pub(crate) fn new(dialect: &'d dyn Dialect) -> Self {
        SqlBuf {
            out: String::new(),
            dialect,
        }
    }

    pub(crate) fn dialect(&self) -> &'d dyn Dialect {
        self.dialect
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }

    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.out.push_str(text);
        self
    }

    /// A quoted identifier.
    pub(crate) fn ident(&mut self, name: &str) -> &mut Self {
        self.dialect.quote_ident_into(&mut self.out, name);
        self
    }

    /// `"schema"."table"`, or `"table"`.
    pub(crate) fn table(&mut self, table: &Table) -> &mut Self {
        let quoted = self.dialect.quote_table(table);
        self.push(&quoted)
    }

    /// A string literal: `'it''s'`.
    pub(crate) fn string(&mut self, text: &str) -> &mut Self {
        self.out.push('\'');
        self.out.push_str(&text.replace('\'', "''"));
        self.out.push('\'');
        self
    }

    /// `"qualifier"."name"`.
    pub(crate) fn qualified(&mut self, qualifier: &str, name: &str) -> &mut Self {
        self.ident(qualifier).push(".").ident(name)
    }

    /// The server's `now()`.
    pub(crate) fn now(&mut self) -> &mut Self {
        let now = self.dialect.now();
        self.push(now)
    }

    /// The insert flag of `RETURNING`.
    pub(crate) fn inserted_flag(&mut self) -> &mut Self {
        let flag = self.dialect.inserted_flag();
        self.push(flag)
    }

    /// `$1, $2, .., $n`
    pub(crate) fn placeholders(&mut self, n: usize) -> &mut Self {
        for i in 1..=n {
            if i > 1 {
                self.out.push_str(", ");
            }
            self.dialect.placeholder_into(&mut self.out, i);
        }
        self
    }

    /// The `n`th placeholder.
    pub(crate) fn placeholder(&mut self, n: usize) -> &mut Self {
        self.dialect.placeholder_into(&mut self.out, n);
        self
    }

    /// `items` separated by `, `.
    pub(crate) fn list<T>(
        &mut self,
        items: &[T],
        mut each: impl FnMut(&mut Self, &T),
    ) -> &mut Self {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            each(self, item);
        }
        self
    }

    /// A sub-expression written on its own (to be used twice, or inside a format string).
    pub(crate) fn fragment(&self, write: impl FnOnce(&mut SqlBuf<'d>)) -> String {
        let mut part = SqlBuf::new(self.dialect);
        write(&mut part);
        part.out
    }
}

impl fmt::Write for SqlBuf<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.out.push_str(s);
        Ok(())
    }
}
