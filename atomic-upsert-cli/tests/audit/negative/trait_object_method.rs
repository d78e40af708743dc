// `payment_processor.refund(..)` on a `&dyn PaymentProcessor`, a trait of the crate whose
// implementors call a payment API: not the crate's `Order::refund`, which inserts refund
// items, whatever the names share.
pub trait PaymentProcessor {
    async fn refund(&self, auth_token: &str) -> Result<ChargeAuthResult, PaymentProcessorError>;
}

pub struct StripeProcessor {
    client: StripeClient,
}

impl PaymentProcessor for StripeProcessor {
    async fn refund(&self, auth_token: &str) -> Result<ChargeAuthResult, PaymentProcessorError> {
        let refund = self.client.refund(auth_token).await?;
        Ok(ChargeAuthResult::new(refund.id))
    }
}

impl Order {
    pub fn refund(&mut self, items: &[RefundItem], conn: &PgConnection) -> Result<(), DatabaseError> {
        diesel::insert_into(refund_items::table).values(items).execute(conn)?;
        Ok(())
    }

    pub fn refunded_items(&self, conn: &PgConnection) -> Result<Vec<RefundItem>, DatabaseError> {
        Ok(refund_items::table.filter(refund_items::order_id.eq(self.id)).load(conn)?)
    }
}

async fn auth_then_complete(
    order: &mut Order,
    conn: &PgConnection,
    payment_processor: &dyn PaymentProcessor,
) -> Result<(), ApiError> {
    let refunded = order.refunded_items(conn)?;
    if refunded.is_empty() {
        payment_processor.refund(&order.auth_token).await?;
    }
    Ok(())
}
