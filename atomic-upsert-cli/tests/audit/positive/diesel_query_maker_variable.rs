// The model's own query maker (`fn query() -> _ { profile::table.left_join(..) }`, as
// Diesel's `#[auto_type]` writes it), bound to a variable and filtered later: the read is
// of its table.
use diesel::prelude::*;

impl Profile {
    #[diesel::dsl::auto_type]
    fn query() -> _ {
        profile::table.left_join(image::table.on(profile::avatar_image_id.eq(image::id.nullable())))
    }

    pub fn from_claims(claims: ProfileClaims, conn: &mut PgConnection) -> Result<Self, Error> {
        let query = Self::query();
        let found: Option<Self> = query
            .filter(profile::email.eq(&claims.email))
            .select(Self::as_select())
            .first(conn) // READ
            .optional()?;
        if let Some(profile) = found {
            return Ok(profile);
        }
        diesel::insert_into(profile::table) // WRITE
            .values(NewProfile::from(claims))
            .get_result(conn)
            .map_err(Error::from)
    }
}
