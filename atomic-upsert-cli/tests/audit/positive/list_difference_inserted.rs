// The labels an item lacks, from a list read (`wanted.difference(&present)`), handed to an
// insert helper: two requests both read the same labels and both insert the missing ones.
use std::collections::HashSet;

async fn insert_labels(pool: &sqlx::PgPool, item: i64, labels: Vec<i64>) -> Result<(), Error> {
    for label in labels {
        sqlx::query("INSERT INTO item_labels (item_id, label_id) VALUES ($1, $2)")
            .bind(item)
            .bind(label)
            .execute(pool)
            .await?;
    }
    Ok(())
}

pub async fn update_item_labels(pool: &sqlx::PgPool, item: i64, wanted: Vec<i64>) -> Result<(), Error> {
    let present: Vec<(i64,)> = sqlx::query_as("SELECT label_id FROM item_labels WHERE item_id = $1") // READ
        .bind(item)
        .fetch_all(pool)
        .await?;
    let present: HashSet<i64> = present.iter().map(|l| l.0).collect();
    let wanted: HashSet<i64> = wanted.into_iter().collect();
    let to_add: Vec<i64> = wanted.difference(&present).copied().collect();
    let to_remove: Vec<i64> = present.difference(&wanted).copied().collect();
    remove_labels(pool, item, to_remove).await?;
    insert_labels(pool, item, to_add).await?; // WRITE
    Ok(())
}
