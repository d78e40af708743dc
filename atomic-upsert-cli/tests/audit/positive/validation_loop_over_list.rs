// The mint reads every spent proof, returns an error when one sent is among them, then
// records the sent ones: two requests with the same proofs both pass and both insert.
impl Mint {
    pub async fn check_used_proofs(&self, tx: &mut PgTx, proofs: &Proofs) -> Result<(), Error> {
        let used_proofs = self.db.get_used_proofs(tx).await?;
        for used_proof in used_proofs {
            if proofs.contains(&used_proof) {
                return Err(Error::ProofAlreadyUsed);
            }
        }
        Ok(())
    }

    pub async fn swap(&self, proofs: &Proofs) -> Result<(), Error> {
        let mut tx = self.db.begin_tx().await?;
        self.check_used_proofs(&mut tx, proofs).await?; // READ
        self.db.add_used_proofs(&mut tx, proofs).await?; // WRITE
        tx.commit().await?;
        Ok(())
    }
}

impl PostgresDb {
    async fn get_used_proofs(&self, tx: &mut PgTx) -> Result<Vec<Proof>, Error> {
        let rows = sqlx::query_as::<_, Proof>("SELECT * FROM used_proofs")
            .fetch_all(&mut **tx)
            .await?;
        Ok(rows)
    }

    async fn add_used_proofs(&self, tx: &mut PgTx, proofs: &Proofs) -> Result<(), Error> {
        for proof in proofs.iter() {
            sqlx::query("INSERT INTO used_proofs (secret, amount) VALUES ($1, $2)")
                .bind(&proof.secret)
                .bind(proof.amount)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}
