// The `save` a crate's own derive generates, on a row the function loaded: it writes that
// row back (an update), not the derive's insert of a new one.
#[proc_macro_derive(Model, attributes(table))]
pub fn derive(input: TokenStream) -> TokenStream {
    let ast: DeriveInput = parse_macro_input!(input);
    let name = &ast.ident;
    let insert = format!("INSERT INTO \"{}\" (email) VALUES ($1) RETURNING id", table(&ast));
    let update = format!("UPDATE \"{}\" SET email = $2 WHERE id = $1", table(&ast));
    quote! {
        impl #name<NoId> {
            pub async fn save(self, pool: &sqlx::PgPool) -> sqlx::Result<#name<Id>> {
                sqlx::query_scalar(#insert).fetch_one(pool).await.map(|id| self.with_id(id))
            }
        }
        impl #name<Id> {
            pub async fn save(&self, pool: &sqlx::PgPool) -> sqlx::Result<()> {
                sqlx::query(#update).execute(pool).await.map(|_| ())
            }
        }
    }
    .into()
}

#[derive(Model)]
#[table(app_user)]
pub struct User<I = NoId> {
    id: I,
    email: String,
    disabled: bool,
}

impl User {
    pub async fn find_by_email(pool: &sqlx::PgPool, email: &str) -> sqlx::Result<Option<User<Id>>> {
        sqlx::query_as("SELECT id, email, disabled FROM app_user WHERE email = $1")
            .bind(email)
            .fetch_optional(pool)
            .await
    }
}

pub async fn disable_user(pool: &sqlx::PgPool, email: &str) -> Result<(), Error> {
    let Some(mut user) = User::find_by_email(pool, email).await? else {
        return Err(Error::NotFound);
    };
    if user.disabled {
        return Ok(());
    }
    user.disabled = true;
    user.save(pool).await?;
    Ok(())
}
