// `main` makes sure the standard user exists, once, through a service whose method hands the
// call on to the repository's method of the same name. The repository's check and insert
// run only then.
use diesel::prelude::*;

fn main() {
    let service = UserService::connect();
    service.ensure_standard_user();
    serve(service);
}

impl UserService {
    fn ensure_standard_user(&self) {
        self.repository.ensure_standard_user("admin");
    }
}

impl UserRepository {
    fn ensure_standard_user(&self, name: &str) {
        let conn = &mut self.pool.get().expect("connection");
        let found = users::table
            .filter(users::username.eq(name))
            .first::<User>(conn)
            .optional()
            .expect("read");
        if found.is_none() {
            diesel::insert_into(users::table)
                .values(users::username.eq(name))
                .execute(conn)
                .expect("insert");
        }
    }
}
