// A crate's own derive generates `save`, which inserts (its source builds `INSERT INTO`);
// a handler checks by email, then saves a new user.
#[proc_macro_derive(Model, attributes(table))]
pub fn derive(input: TokenStream) -> TokenStream {
    let ast: DeriveInput = parse_macro_input!(input);
    let name = &ast.ident;
    let table = table_attr(&ast.attrs, name);
    let insert = format!("INSERT INTO \"{table}\" ({}) VALUES ({}) RETURNING id", columns(&ast), values(&ast));
    quote! {
        impl #name<NoId> {
            pub async fn save<'e, E: sqlx::PgExecutor<'e>>(self, executor: E) -> sqlx::Result<#name<Id>> {
                let id = sqlx::query_scalar(#insert).fetch_one(executor).await?;
                Ok(self.with_id(id))
            }
        }
    }
    .into()
}

#[derive(Clone, Model)]
#[table(app_user)]
pub struct User<I = NoId> {
    id: I,
    email: String,
}

impl User {
    pub async fn find_by_email(pool: &sqlx::PgPool, email: &str) -> sqlx::Result<Option<User<Id>>> {
        sqlx::query_as("SELECT id, email FROM app_user WHERE email = $1")
            .bind(email)
            .fetch_optional(pool)
            .await
    }
}

pub async fn add_user(pool: &sqlx::PgPool, email: String) -> Result<(), Error> {
    if User::find_by_email(pool, &email).await?.is_some() { // READ
        return Err(Error::Exists);
    }
    User::new(email).save(pool).await?; // WRITE
    Ok(())
}
