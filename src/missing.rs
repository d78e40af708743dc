//! Stand-ins for the column types of features that are off, at the paths sqlx has them
//! when on (`atomic_upsert::sqlx::types::Uuid`, `..::types::chrono::DateTime`). Importing
//! one compiles; a field of it fails with the one error that names the feature to turn on,
//! where without them the import would fail with rustc's "unresolved import" and no hint.
//! Each is uninhabited: nothing can be made of it.

/// Declares stand-ins, each documented with the feature it stands in for (unused in a build
/// with every column-type feature on).
#[allow(unused_macros)]
macro_rules! missing {
    ($feature:literal: $($name:ident $(<$param:ident>)?),* $(,)?) => {
        $(
            #[doc = concat!(
                "Stands in for `", stringify!($name), "` while atomic-upsert's `", $feature,
                "` feature is off: a field of it fails to compile with the error that names \
                 the feature.\n\n```toml\natomic-upsert = { version = \"0.1\", features = [\"",
                $feature, "\"] }\n```"
            )]
            #[derive(Debug, Clone, Copy)]
            pub enum $name $(<$param>)? {
                $(
                    #[doc(hidden)]
                    __Off(std::marker::PhantomData<$param>, std::convert::Infallible),
                )?
            }
        )*
    };
}

#[cfg(not(feature = "uuid"))]
missing!("uuid": Uuid);
#[cfg(not(feature = "rust_decimal"))]
missing!("rust_decimal": Decimal);
#[cfg(not(feature = "bigdecimal"))]
missing!("bigdecimal": BigDecimal);
#[cfg(not(feature = "bit-vec"))]
missing!("bit-vec": BitVec);
#[cfg(not(feature = "json"))]
missing!("json": Json<T>, JsonValue);

/// Stand-ins for sqlx's `types::chrono` while the `chrono` feature is off.
#[cfg(not(feature = "chrono"))]
pub mod chrono {
    missing!("chrono": DateTime<Tz>, NaiveDate, NaiveDateTime, NaiveTime, Utc, Local, FixedOffset);
}

/// Stand-ins for sqlx's `types::time` while the `time` feature is off.
#[cfg(not(feature = "time"))]
pub mod time {
    missing!("time": Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset);
}

/// Stand-ins for sqlx's `types::ipnet` while the `ipnet` feature is off.
#[cfg(not(feature = "ipnet"))]
pub mod ipnet {
    missing!("ipnet": IpNet, Ipv4Net, Ipv6Net);
}

/// Stand-ins for sqlx's `types::ipnetwork` while the `ipnetwork` feature is off.
#[cfg(not(feature = "ipnetwork"))]
pub mod ipnetwork {
    missing!("ipnetwork": IpNetwork, Ipv4Network, Ipv6Network);
}

/// Stand-ins for sqlx's `types::mac_address` while the `mac_address` feature is off.
#[cfg(not(feature = "mac_address"))]
pub mod mac_address {
    missing!("mac_address": MacAddress);
}
