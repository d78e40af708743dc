use sea_orm::*;

// A helper reads a toolchain with its targets and components (lists); the caller looks into
// the targets and inserts a new one.
struct Db {
    conn: DatabaseConnection,
}

impl Db {
    async fn get_toolchain(&self, name: &str) -> Result<Option<Toolchain>, DbErr> {
        let Some(toolchain) = toolchain::Entity::find()
            .filter(toolchain::Column::Name.eq(name))
            .one(&self.conn)
            .await?
        else {
            return Ok(None);
        };
        let targets = toolchain_target::Entity::find()
            .filter(toolchain_target::Column::ToolchainFk.eq(toolchain.id))
            .all(&self.conn)
            .await?;
        let components = toolchain_component::Entity::find()
            .filter(toolchain_component::Column::ToolchainFk.eq(toolchain.id))
            .all(&self.conn)
            .await?;
        Ok(Some(Toolchain::from((toolchain, targets, components))))
    }

    async fn add_target(&self, toolchain: i64, target: &str) -> Result<(), DbErr> {
        toolchain_target::ActiveModel {
            toolchain_fk: Set(toolchain),
            target: Set(target.to_owned()),
            ..Default::default()
        }
        .insert(&self.conn)
        .await?;
        Ok(())
    }
}

async fn upload(db: &Db, name: &str, target: &str, id: i64) -> Result<(), ApiError> {
    let toolchain = db.get_toolchain(name).await?; // READ
    if let Some(tc) = toolchain {
        if tc.targets.iter().any(|t| t.target == target) {
            return Err(ApiError::TargetExists);
        }
    }
    db.add_target(id, target).await?; // WRITE
    Ok(())
}
