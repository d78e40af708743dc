// `lock_version` bumps the order's version where it still has the one read (`UPDATE ..
// WHERE id = $1 AND version = $2`): in the transaction that holds the order's row lock
// until it ends, so the check of its items and the insert run one caller at a time.
use diesel::prelude::*;

impl Order {
    pub fn lock_version(&mut self, conn: &PgConnection) -> Result<(), DatabaseError> {
        let rows = diesel::update(
            orders::table
                .filter(orders::id.eq(self.id))
                .filter(orders::version.eq(self.version)),
        )
        .set(orders::version.eq(self.version + 1))
        .execute(conn)?;
        if rows == 0 {
            return Err(DatabaseError::concurrency("another process has updated the order"));
        }
        self.version += 1;
        Ok(())
    }

    pub fn add_item(&mut self, ticket_type_id: Uuid, conn: &PgConnection) -> Result<(), DatabaseError> {
        self.lock_version(conn)?;
        let existing: Option<OrderItem> = order_items::table
            .filter(order_items::order_id.eq(self.id))
            .filter(order_items::ticket_type_id.eq(ticket_type_id))
            .first(conn)
            .optional()?;
        if existing.is_none() {
            diesel::insert_into(order_items::table)
                .values((order_items::order_id.eq(self.id), order_items::ticket_type_id.eq(ticket_type_id)))
                .execute(conn)?;
        }
        Ok(())
    }
}
