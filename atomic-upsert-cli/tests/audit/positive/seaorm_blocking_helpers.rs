// Synchronous wrappers around SeaORM (`block_in_place` + `block_on`), as a sync trait's
// implementation needs: the read and the insert are each a helper whose query runs inside a
// closure and an `async` block; the insert helper takes the `ActiveModel` as a parameter.
use entities::coin;
use entities::coin::Entity as Coin;
use sea_orm::*;

impl Ledger {
    pub fn get_coin(&self, txid: String, vout: i32) -> Result<Option<coin::Model>, Error> {
        tokio::task::block_in_place(move || {
            self.handle.block_on(async move {
                Coin::find()
                    .filter(coin::Column::Txid.eq(txid))
                    .filter(coin::Column::Vout.eq(vout))
                    .one(self.db.connection())
                    .await
                    .map_err(Error::from)
            })
        })
    }

    pub fn insert_coin(&self, coin: coin::ActiveModel) -> Result<(), Error> {
        tokio::task::block_in_place(move || {
            self.handle.block_on(async move {
                coin.insert(self.db.connection()).await.map(|_| ()).map_err(Error::from)
            })
        })
    }

    pub fn update_coin(&self, coin: coin::ActiveModel) -> Result<(), Error> {
        tokio::task::block_in_place(move || {
            self.handle.block_on(async move {
                coin.update(self.db.connection()).await.map(|_| ()).map_err(Error::from)
            })
        })
    }

    pub fn set_coin(&self, txid: String, vout: i32, value: i64) -> Result<(), Error> {
        match self.get_coin(txid.clone(), vout)? { // READ
            Some(found) => {
                let mut found: coin::ActiveModel = found.into();
                found.value = Set(value);
                self.update_coin(found)
            }
            None => {
                let fresh = coin::ActiveModel {
                    txid: Set(txid),
                    vout: Set(vout),
                    value: Set(value),
                    ..Default::default()
                };
                self.insert_coin(fresh) // WRITE
            }
        }
    }
}
