use db::system::{entities::sys_dept, prelude::SysDept};
use sea_orm::*;

// A query on an entity alias kept in a variable (`let s1 = SysDept::find().filter(..)`)
// and counted later: a read of the alias's table, and the caller inserts when it is 0.
pub async fn check_data_is_exist(dept_name: String, db: &DatabaseConnection) -> Result<bool> {
    let s1 = SysDept::find().filter(sys_dept::Column::DeptName.eq(dept_name));
    let count1 = s1.count(db).await?;
    Ok(count1 > 0)
}

pub async fn add(db: &DatabaseConnection, req: SysDeptAddReq, user_id: String) -> Result<String> {
    if check_data_is_exist(req.clone().dept_name, db).await? { // READ
        return Err(anyhow!("数据已存在",));
    }
    let user = sys_dept::ActiveModel {
        dept_name: Set(req.dept_name),
        ..Default::default()
    };
    let txn = db.begin().await?;
    let _ = SysDept::insert(user).exec(&txn).await?; // WRITE
    txn.commit().await?;
    Ok("ok".to_string())
}
