// A trait's default method counts the user's roles through a join named by the joined
// table's `dsl` path; the granter returns when it has the role, else inserts it.
use diesel::prelude::*;

pub trait UserLike {
    fn id(&self) -> i32;
    fn has_role(&self, name: Role, conn: &mut PgConnection) -> Result<bool, diesel::result::Error> {
        use crate::schema::{roles, user_roles};
        roles::dsl::roles
            .inner_join(user_roles::dsl::user_roles)
            .filter(user_roles::dsl::user_id.eq(self.id()))
            .filter(roles::dsl::name.eq(name))
            .count()
            .get_result(conn)
            .map(|count: i64| count > 0)
    }
}

pub struct RoleGranter;

impl RoleGranter {
    pub fn grant_role<U: UserLike>(&self, user: &U, role: Role, conn: &mut PgConnection) -> Result<(), diesel::result::Error> {
        use crate::schema::{roles, user_roles};
        if user.has_role(role, conn)? { // READ
            return Ok(());
        }
        roles::table
            .filter(roles::dsl::name.eq(role))
            .select(roles::dsl::id)
            .get_result(conn)
            .and_then(|role_id: i32| {
                diesel::insert_into(user_roles::table) // WRITE
                    .values((user_roles::dsl::user_id.eq(user.id()), user_roles::dsl::role_id.eq(role_id)))
                    .execute(conn)
                    .map(|_| ())
            })
    }
}
