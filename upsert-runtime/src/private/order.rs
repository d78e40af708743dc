//! The client order of conflict keys, for presorted batches.
//!
//! A batch whose keys the client can compare goes presorted when its keys are distinct:
//! sorted here, in the batch's lock order, and written by a statement with no fold and no
//! sort (`upsert_core::postgres::bulk::upsert_many_presorted`). The lock order must be the one the
//! server's statements sort in, or a presorted batch and a folded one could lock two rows in
//! opposite orders. So only keys whose order the client knows take part: string keys, which
//! every batch statement sorts by their bytes (`COLLATE "C"`, `Column::sorts_by_bytes`), and
//! integers, booleans and UUIDs, which sort by value on both sides. NULL sorts last.
//!
//! The derive names a key's order by the field's type as written: [`Text`] for the string
//! types whose statements it sorts by bytes, [`Value`] for everything else. A type alias of
//! `String` is [`Value`], which `String` does not implement: it takes the folded path, which
//! sorts as the server does.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::marker::PhantomData;

/// A string key: ordered by its bytes.
pub enum Text {}

/// A key ordered by its value.
pub enum Value {}

/// A key type whose batch order the client knows, as `K` ([`Text`] or [`Value`]) says.
pub trait KeyOrder<K> {
    /// The batch order.
    fn key_cmp(&self, other: &Self) -> Ordering;

    /// Whether the value is NULL.
    fn key_is_null(&self) -> bool {
        false
    }
}

macro_rules! text_order {
    ($($ty:ty),*) => {$(
        impl KeyOrder<Text> for $ty {
            #[inline]
            fn key_cmp(&self, other: &Self) -> Ordering {
                // `str`'s order is byte order, as `COLLATE "C"` on UTF-8.
                <str as Ord>::cmp(self, other)
            }
        }
    )*};
}

text_order!(str, String, Box<str>, Cow<'_, str>);

macro_rules! value_order {
    ($($ty:ty),*) => {$(
        impl KeyOrder<Value> for $ty {
            #[inline]
            fn key_cmp(&self, other: &Self) -> Ordering {
                Ord::cmp(self, other)
            }
        }
    )*};
}

// PostgreSQL compares `uuid` as 16 bytes, as `Uuid`'s `Ord` does.
value_order!(i16, i32, i64, bool);
#[cfg(feature = "uuid")]
value_order!(sqlx::types::Uuid);

impl<K, T: KeyOrder<K> + ?Sized> KeyOrder<K> for &T {
    #[inline]
    fn key_cmp(&self, other: &Self) -> Ordering {
        T::key_cmp(self, other)
    }

    #[inline]
    fn key_is_null(&self) -> bool {
        T::key_is_null(self)
    }
}

impl<K, T: KeyOrder<K>> KeyOrder<K> for Option<T> {
    #[inline]
    fn key_cmp(&self, other: &Self) -> Ordering {
        // NULLS LAST, as PostgreSQL sorts ascending.
        match (self, other) {
            (Some(a), Some(b)) => a.key_cmp(b),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
    }

    #[inline]
    fn key_is_null(&self) -> bool {
        self.is_none()
    }
}

/// A key field's order functions.
pub struct KeyFns<T: ?Sized> {
    /// The batch order.
    pub cmp: fn(&T, &T) -> Ordering,
    /// Whether a value is NULL.
    pub is_null: fn(&T) -> bool,
}

/// Autoref specialization: `(&OrderProbe::<T, K>::new()).__atomic_upsert_key_order()` is `T`'s
/// [`KeyFns`] when `T: KeyOrder<K>`, and `None` otherwise, without a compile error either
/// way (only for concrete types: the derive calls it for structs with no type parameters).
pub struct OrderProbe<T: ?Sized, K>(PhantomData<fn(&T) -> K>);

impl<T: ?Sized, K> OrderProbe<T, K> {
    /// A probe of `T`'s order as `K`.
    #[must_use]
    pub const fn new() -> Self {
        OrderProbe(PhantomData)
    }
}

impl<T: ?Sized, K> Default for OrderProbe<T, K> {
    fn default() -> Self {
        Self::new()
    }
}

/// The probe of a type with a client order.
pub trait Ordered<T: ?Sized> {
    /// `T`'s order functions.
    fn __atomic_upsert_key_order(&self) -> Option<KeyFns<T>>;
}

impl<K, T: KeyOrder<K> + ?Sized> Ordered<T> for OrderProbe<T, K> {
    #[inline]
    fn __atomic_upsert_key_order(&self) -> Option<KeyFns<T>> {
        Some(KeyFns {
            cmp: T::key_cmp,
            is_null: T::key_is_null,
        })
    }
}

/// The probe of any other type.
pub trait Unordered<T: ?Sized> {
    /// `None`: the batch is left to the server's fold.
    fn __atomic_upsert_key_order(&self) -> Option<KeyFns<T>>;
}

impl<T: ?Sized, K> Unordered<T> for &OrderProbe<T, K> {
    #[inline]
    fn __atomic_upsert_key_order(&self) -> Option<KeyFns<T>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::{KeyOrder, OrderProbe, Ordered as _, Text, Unordered as _, Value};
    use std::cmp::Ordering;

    // The borrow is the probe's mechanism: by autoref, `Unordered` answers what `Ordered`
    // does not.
    #[test]
    #[allow(clippy::needless_borrow)]
    fn probes_find_known_orders_only() {
        assert!(
            (&OrderProbe::<String, Text>::new())
                .__atomic_upsert_key_order()
                .is_some()
        );
        assert!(
            (&OrderProbe::<Option<&str>, Text>::new())
                .__atomic_upsert_key_order()
                .is_some()
        );
        assert!(
            (&OrderProbe::<i64, Value>::new())
                .__atomic_upsert_key_order()
                .is_some()
        );
        // A string named as a value (a type alias the derive cannot see through).
        assert!(
            (&OrderProbe::<String, Value>::new())
                .__atomic_upsert_key_order()
                .is_none()
        );
        assert!(
            (&OrderProbe::<f64, Value>::new())
                .__atomic_upsert_key_order()
                .is_none()
        );
    }

    #[test]
    fn strings_sort_by_bytes_and_nulls_last() {
        assert_eq!("Z".key_cmp("a"), Ordering::Less);
        assert_eq!("é".key_cmp("z"), Ordering::Greater);
        assert_eq!(
            KeyOrder::<Text>::key_cmp(&None::<String>, &Some(String::new())),
            Ordering::Greater
        );
        assert!(KeyOrder::<Value>::key_is_null(&None::<i64>));
    }
}
