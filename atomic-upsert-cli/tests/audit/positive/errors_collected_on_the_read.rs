// The form's errors gather a "name taken" when the read finds the blog; the early return
// on the errors looks at that read through the variable the arm changed.
fn create(conn: &Connection, form: &NewBlogForm) -> Result<Blog, Errors> {
    let mut errors = form.validate();
    if Blog::find_by_slug(conn, &form.slug).is_ok() { // READ
        errors.add("title", "A blog with the same name already exists.");
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Blog::insert(conn, NewBlog::new(&form.slug)) // WRITE
}

impl Blog {
    pub fn find_by_slug(conn: &Connection, slug: &str) -> Result<Blog, diesel::result::Error> {
        blogs::table.filter(blogs::slug.eq(slug)).first(conn)
    }

    pub fn insert(conn: &Connection, new: NewBlog) -> Result<Blog, diesel::result::Error> {
        diesel::insert_into(blogs::table).values(new).get_result(conn)
    }
}
