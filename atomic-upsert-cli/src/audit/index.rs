//! What the audit knows of the whole crate before it reads any function: the SQL kept in
//! constants, the functions that handle a unique violation, the types of structs' fields,
//! the implementors of each trait, the methods of each type, and the other names of
//! `SeaORM` models. The helper passes and the reporting pass resolve calls with it.

use syn::visit::Visit;

use super::ops;

/// What the audit knows of the whole crate before it reads any function.
#[derive(Debug, Default)]
pub struct Index {
    /// The crate's string constants that hold SQL, by name (a name bound twice to different
    /// SQL is left out).
    pub consts: std::collections::HashMap<String, String>,
    /// The names of the crate's functions that handle a unique violation (an error mapper
    /// such as `map_sqlx_error`, passed to `map_err` by the functions that insert).
    pub handlers: std::collections::HashSet<String>,
    /// The type of each struct's field, by struct and field, reduced to the type that
    /// holds the methods (`repository: Arc<dyn UserRepository>` -> `UserRepository`).
    pub fields: std::collections::HashMap<(String, String), String>,
    /// The types that implement each trait of the crate, by trait.
    pub implementors: std::collections::HashMap<String, Vec<String>>,
    /// `SeaORM` models and entities imported or aliased under another name, with their
    /// table (`use user::Model as DbUser;`, `type DbUser = user::Model;`).
    pub aliases: Aliases,
    /// The functions the crate's `impl` blocks define, by type ([`MACRO_METHODS`] among
    /// them when a macro call makes some).
    pub methods: std::collections::HashMap<String, std::collections::HashSet<String>>,
}

/// Stands for the methods a macro call in an `impl` block makes, whatever their names.
pub const MACRO_METHODS: &str = "$macro";

impl Index {
    /// Whether the crate may define a function `name` for type `ty` (a macro call in one of
    /// its `impl` blocks may make any; a trait's implementors have theirs).
    pub fn defines(&self, ty: &str, name: &str) -> bool {
        self.methods
            .get(ty)
            .is_some_and(|m| m.contains(name) || m.contains(MACRO_METHODS))
            || self.implementors.contains_key(ty)
    }

    /// The types whose methods a call on `ty` may run: `ty` itself, and when it is a
    /// trait, the types that implement it.
    pub fn owners(&self, ty: &str) -> Vec<String> {
        let mut owners = vec![ty.to_owned()];
        if let Some(types) = self.implementors.get(ty) {
            owners.extend(types.iter().cloned());
        }
        owners
    }
}

/// Other names of `SeaORM` models, by name, with their table.
pub type Aliases = std::collections::HashMap<String, String>;

/// Whether a type name is one a `SeaORM` entity module defines for its table.
pub fn is_model(name: &str) -> bool {
    matches!(name, "Model" | "ActiveModel" | "Entity")
}

/// The type that holds a field's methods: the last path segment after smart pointers,
/// references and `dyn` (`Arc<dyn UserRepository>`, `&'a Box<Pool>`, `Option<Arc<Cache>>`).
pub fn core_type(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Reference(r) => core_type(&r.elem),
        syn::Type::Paren(p) => core_type(&p.elem),
        syn::Type::TraitObject(t) => t.bounds.iter().find_map(|b| match b {
            syn::TypeParamBound::Trait(t) => t.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        }),
        syn::Type::Path(path) => {
            let last = path.path.segments.last()?;
            let name = last.ident.to_string();
            let wrapper = matches!(
                name.as_str(),
                "Arc" | "Rc" | "Box" | "Option" | "RwLock" | "Mutex" | "Data" | "State"
            );
            if wrapper
                && let syn::PathArguments::AngleBracketed(args) = &last.arguments
                && let Some(syn::GenericArgument::Type(inner)) = args.args.first()
            {
                return core_type(inner);
            }
            Some(name)
        }
        _ => None,
    }
}

#[derive(Default)]
/// Builds an [`Index`] from every file.
struct Found {
    index: Index,
    consts: Vec<(String, String)>,
}
impl Found {
    fn function(&mut self, sig: &syn::Signature, block: &syn::Block) {
        if ops::handles_unique_violation(block) {
            self.index.handlers.insert(sig.ident.to_string());
        }
    }
}
impl<'ast> Visit<'ast> for Found {
    fn visit_item_const(&mut self, node: &'ast syn::ItemConst) {
        if let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(text),
            ..
        }) = &*node.expr
        {
            let sql = text.value();
            if ops::sql_op(&sql, proc_macro2::Span::call_site()).is_some() {
                self.consts.push((node.ident.to_string(), sql));
            }
        }
    }
    fn visit_item_fn(&mut self, node: &'ast syn::ItemFn) {
        self.function(&node.sig, &node.block);
        syn::visit::visit_item_fn(self, node);
    }
    fn visit_impl_item_fn(&mut self, node: &'ast syn::ImplItemFn) {
        self.function(&node.sig, &node.block);
        syn::visit::visit_impl_item_fn(self, node);
    }
    fn visit_item_use(&mut self, node: &'ast syn::ItemUse) {
        // `use schema::user::Model as DbUser;`: `DbUser` is `user`'s model.
        fn walk(tree: &syn::UseTree, parent: Option<String>, aliases: &mut Aliases) {
            match tree {
                syn::UseTree::Path(path) => {
                    walk(&path.tree, Some(path.ident.to_string()), aliases);
                }
                syn::UseTree::Group(group) => {
                    for item in &group.items {
                        walk(item, parent.clone(), aliases);
                    }
                }
                syn::UseTree::Rename(rename) if is_model(&rename.ident.to_string()) => {
                    if let Some(table) = parent {
                        aliases.insert(rename.rename.to_string(), table);
                    }
                }
                _ => {}
            }
        }
        walk(&node.tree, None, &mut self.index.aliases);
    }
    fn visit_item_type(&mut self, node: &'ast syn::ItemType) {
        // `type DbUser = user::Model;`
        if let syn::Type::Path(path) = &*node.ty
            && let [.., table, model] = path.path.segments.iter().collect::<Vec<_>>().as_slice()
            && is_model(&model.ident.to_string())
        {
            self.index
                .aliases
                .insert(node.ident.to_string(), table.ident.to_string());
        }
    }
    fn visit_item_struct(&mut self, node: &'ast syn::ItemStruct) {
        let generic = |ty: &str| node.generics.type_params().any(|p| p.ident == ty);
        for field in &node.fields {
            if let (Some(name), Some(ty)) = (&field.ident, core_type(&field.ty))
                && !generic(&ty)
            {
                self.index
                    .fields
                    .insert((node.ident.to_string(), name.to_string()), ty);
            }
        }
    }
    fn visit_item_impl(&mut self, node: &'ast syn::ItemImpl) {
        if let syn::Type::Path(ty) = &*node.self_ty
            && let Some(ty) = ty.path.segments.last()
        {
            let methods = self.index.methods.entry(ty.ident.to_string()).or_default();
            for item in &node.items {
                match item {
                    syn::ImplItem::Fn(function) => {
                        methods.insert(function.sig.ident.to_string());
                    }
                    // `insert!(follows, NewFollow);`: methods a macro makes.
                    syn::ImplItem::Macro(_) => {
                        methods.insert(MACRO_METHODS.to_owned());
                    }
                    _ => {}
                }
            }
        }
        if let Some((_, trait_path, _)) = &node.trait_
            && let Some(trait_name) = trait_path.segments.last()
            && let syn::Type::Path(ty) = &*node.self_ty
            && let Some(ty) = ty.path.segments.last()
        {
            let implementors = self
                .index
                .implementors
                .entry(trait_name.ident.to_string())
                .or_default();
            let ty = ty.ident.to_string();
            if !implementors.contains(&ty) {
                implementors.push(ty);
            }
        }
        syn::visit::visit_item_impl(self, node);
    }
}

/// What the audit knows of the whole crate before it reads any function (see
/// [`Index`]), from all `files`.
pub fn index<'a>(files: impl Iterator<Item = &'a syn::File>) -> Index {
    let mut found = Found::default();
    for file in files {
        found.visit_file(file);
    }
    // A constant's name bound twice to different SQL is left out.
    let consts = &mut found.index.consts;
    let mut clashes = Vec::new();
    for (name, sql) in found.consts {
        match consts.get(&name) {
            Some(other) if *other != sql => clashes.push(name),
            _ => {
                consts.insert(name, sql);
            }
        }
    }
    for name in clashes {
        consts.remove(&name);
    }
    found.index
}
