//! The opt-in trait for `#[upsert(add)]` field types.

/// A field type that `#[upsert(add)]` may add on conflict: its PostgreSQL column type has
/// `+` (the write is `stored + incoming`) and `sum()` (a batch adds a key's rows first).
///
/// Implemented for `i16`, `i32`, `i64`, `f32` and `f64`, for `rust_decimal::Decimal` with
/// the `rust_decimal` feature and `bigdecimal::BigDecimal` with the `bigdecimal` feature
/// (both `numeric` columns, exact money counters). Your own type opts in with an empty
/// impl: a newtype over a number (`#[sqlx(transparent)]`), or a type whose column is a
/// domain over a numeric type. The impl is your promise that PostgreSQL can add the
/// column's values; the derive cannot check it.
///
/// Not for `Option<T>` (`stored + NULL` is NULL: the counter would be lost) nor for
/// `String`, which stays a compile error:
///
/// ```compile_fail
/// use atomic_upsert::AtomicUpsert;
///
/// #[derive(AtomicUpsert)]
/// struct Tally { #[conflict_key] name: String, #[upsert(add)] total: String }
/// ```
///
/// A newtype counter, with sqlx's derive (which needs `sqlx` as a direct dependency, see the
/// README):
///
/// ```ignore
/// #[derive(sqlx::Type)]
/// #[sqlx(transparent)]
/// struct Cents(i64);
///
/// impl atomic_upsert::Addable for Cents {}
///
/// #[derive(atomic_upsert::AtomicUpsert)]
/// struct Wallet { #[conflict_key] owner: String, #[upsert(add)] balance: Cents }
/// ```
#[diagnostic::on_unimplemented(
    message = "`#[upsert(add)]` needs a field type PostgreSQL can add, and `{Self}` is not one",
    label = "`add` writes `stored + incoming`: i16, i32, i64, f32, f64, Decimal (`rust_decimal` feature), BigDecimal (`bigdecimal` feature), or a type of yours that implements `atomic_upsert::Addable`",
    note = "a nullable counter is an `Option` of an addable type, with its NULL rule: `#[upsert(add, nulls = \"zero\")]` or `#[upsert(add, nulls = \"propagate\")]`"
)]
pub trait Addable {
    /// The value's sign, for a type whose sums can overflow (the integers): a batch whose
    /// rows add amounts of both signs to a key goes in rounds, so that a running sum that
    /// overflows fails at the row that overflows it, as one by one. `None` (the default,
    /// and for `f32`, `f64`, `Decimal` and `BigDecimal`) for a type whose sums do not
    /// overflow PostgreSQL's type, or whose sign the crate does not read.
    ///
    /// ```
    /// use atomic_upsert::Addable;
    /// assert_eq!((-3_i64).sign(), Some(std::cmp::Ordering::Less));
    /// assert_eq!(2.5_f64.sign(), None);
    /// ```
    fn sign(&self) -> Option<std::cmp::Ordering> {
        None
    }
}

/// A nullable counter: the derive asks for its NULL rule, `#[upsert(add, nulls = "zero")]`
/// (a NULL counts as 0) or `#[upsert(add, nulls = "propagate")]` (NULL + n is NULL).
impl<T: Addable> Addable for Option<T> {
    fn sign(&self) -> Option<std::cmp::Ordering> {
        self.as_ref().and_then(Addable::sign)
    }
}

macro_rules! integer_sign {
    ($($int:ty),*) => {$(
        impl Addable for $int {
            fn sign(&self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(&0))
            }
        }
    )*};
}
integer_sign!(i16, i32, i64);
impl Addable for f32 {}
impl Addable for f64 {}
#[cfg(feature = "rust_decimal")]
impl Addable for sqlx::types::Decimal {}
#[cfg(feature = "bigdecimal")]
impl Addable for sqlx::types::BigDecimal {}

/// Whether `Generated::add_signs` bits (of one row, or of many or-ed together) hold an
/// `add` column with amounts of both signs: bit `2j` and bit `2j + 1` both set.
///
/// ```
/// use atomic_upsert::__private::mixed_signs;
/// assert!(mixed_signs(0b11));
/// assert!(!mixed_signs(0b0110));
/// ```
#[must_use]
pub fn mixed_signs(signs: u64) -> bool {
    signs & (signs >> 1) & 0x5555_5555_5555_5555 != 0
}

/// A field of an `add` column, for `Generated::add_signs`: `(&AddSign(&value)).bits(j)`
/// reads its [`Addable::sign`](crate::Addable::sign) when its type is `Addable`
/// ([`AddSignBits`]) and is 0 otherwise ([`NoAddSign`]), so that a field type that is not
/// `Addable` gets its one compile error from the derive's type check, not a second one here.
pub struct AddSign<'a, T: ?Sized>(pub &'a T);

/// [`AddSign`] of an `Addable` type.
pub trait AddSignBits {
    /// Bit `2 * column` for a negative value, `2 * column + 1` for a positive one.
    fn bits(&self, column: u32) -> u64;
}

impl<T: Addable + ?Sized> AddSignBits for AddSign<'_, T> {
    #[inline]
    fn bits(&self, column: u32) -> u64 {
        match self.0.sign() {
            Some(std::cmp::Ordering::Less) => 1 << (2 * column),
            Some(std::cmp::Ordering::Greater) => 1 << (2 * column + 1),
            _ => 0,
        }
    }
}

/// [`AddSign`] of any other type: no bits.
pub trait NoAddSign {
    /// 0.
    #[inline]
    fn bits(&self, _column: u32) -> u64 {
        0
    }
}

impl<T: ?Sized> NoAddSign for &AddSign<'_, T> {}
