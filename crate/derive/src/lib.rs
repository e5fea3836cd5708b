//! `#[derive(Module)]` for cnn_lab (re-exported as `cnn_lab::Module`; see
//! the trait's documentation there for the user's side).
//!
//! PyTorch registers a sub-module, a parameter or a buffer when `__init__`
//! assigns it to `self`; the printout, `state_dict()` and `parameters()`
//! then walk what was registered. The derive does the same from the
//! struct's fields, in declaration order, so the printed structure, the
//! parameter list and the saved keys cannot disagree:
//!
//! - a field whose type is a module (or `Vec<M>`, PyTorch's `ModuleList`,
//!   or `Option<M>`) is a child named after the field;
//! - `#[module(param)]` / `#[module(buffer)]` on a `Tensor` (or
//!   `Option<Tensor>`) field: the module's own parameter or buffer;
//! - `#[module(skip)]`: not part of the module (a plain setting); fields of
//!   plain number, `bool` and `String` types need no mark;
//! - any other field type is a compile error saying which mark to add, so
//!   that nothing is silently left out of training.
//!
//! The generated `forward_t` calls the struct's own
//! `fn forward(&self, xs: &Tensor, train: bool) -> Tensor` and gives the
//! module its row in `summary`; `Display`, `Debug` and evcxr's display print
//! PyTorch's `print(model)` text. `#[module(name = "…")]` on the struct
//! sets the class name shown there (default: the struct's name);
//! `#[module(chain)]` says the forward pass is a chain of stages, given by an
//! inherent `fn stages(&self) -> Vec<Stage<'_>>` (`Module::chain`).

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as Tokens};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{parse_macro_input, Data, DeriveInput, Fields, LitStr};

/// Derives `cnn_lab::Module` (and `Display`, `Debug`, tch's `ModuleT` and
/// evcxr's display) from a struct's fields; see the crate documentation.
#[proc_macro_derive(Module, attributes(module))]
pub fn derive_module(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(err) => err.to_compile_error().into(),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Child,
    Param,
    Buffer,
    Skip,
}

fn field_role(field: &syn::Field) -> syn::Result<Role> {
    let mut role = Role::Child;
    for attr in &field.attrs {
        if !attr.path().is_ident("module") {
            continue;
        }
        attr.parse_nested_meta(|meta| {
            let new = if meta.path.is_ident("skip") {
                Role::Skip
            } else if meta.path.is_ident("param") {
                Role::Param
            } else if meta.path.is_ident("buffer") {
                Role::Buffer
            } else {
                return Err(meta.error(
                    "unknown #[module(…)] mark on a field: expected `skip`, `param` or `buffer`",
                ));
            };
            if role != Role::Child {
                return Err(meta.error("a field takes one of `skip`, `param`, `buffer`"));
            }
            role = new;
            Ok(())
        })?;
    }
    Ok(role)
}

/// The struct's `#[module(name = "…", chain)]` options: its class name, and
/// whether it declares its forward pass as a chain (an inherent
/// `fn stages(&self) -> Vec<Stage<'_>>`).
fn struct_options(input: &DeriveInput) -> syn::Result<(String, bool)> {
    let mut name = input.ident.to_string();
    let mut chain = false;
    for attr in &input.attrs {
        if !attr.path().is_ident("module") {
            continue;
        }
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                let lit: LitStr = meta.value()?.parse()?;
                name = lit.value();
                Ok(())
            } else if meta.path.is_ident("chain") {
                chain = true;
                Ok(())
            } else {
                Err(meta.error(
                    "unknown #[module(…)] option on a struct: expected `name = \"…\"` or `chain`",
                ))
            }
        })?;
    }
    Ok((name, chain))
}

fn expand(input: &DeriveInput) -> syn::Result<Tokens> {
    let fields = match &input.data {
        Data::Struct(s) => &s.fields,
        _ => {
            return Err(syn::Error::new(
                Span::call_site(),
                "#[derive(Module)] works on structs (a model's layers are its fields)",
            ))
        }
    };
    let support = quote!(::cnn_lab::nn::__derive);
    let ident = &input.ident;
    let (class, chain) = struct_options(input)?;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();

    let mut children = Vec::new();
    let mut params = Vec::new();
    let mut buffers = Vec::new();
    let mut checks = Vec::new();
    let members: Vec<(syn::Member, String, &syn::Field)> = match fields {
        Fields::Named(named) => named
            .named
            .iter()
            .map(|f| {
                let id = f.ident.clone().expect("named field");
                let name = id.to_string();
                let name = name.strip_prefix("r#").unwrap_or(&name).to_string();
                (syn::Member::Named(id), name, f)
            })
            .collect(),
        Fields::Unnamed(unnamed) => unnamed
            .unnamed
            .iter()
            .enumerate()
            .map(|(i, f)| (syn::Member::Unnamed(i.into()), i.to_string(), f))
            .collect(),
        Fields::Unit => Vec::new(),
    };
    for (member, name, field) in &members {
        let span = field.ty.span();
        match field_role(field)? {
            Role::Child => children.push(quote_spanned! {span=>
                #support::ModuleField::push_children(&self.#member, #name, &mut out);
            }),
            Role::Param => {
                params.push(quote_spanned! {span=>
                    #support::TensorField::push_tensor(&self.#member, #name, true, &mut out);
                });
                checks.push(quote_spanned! {span=>
                    if let ::std::option::Option::Some(problem) =
                        #support::TensorField::param_problem(&self.#member, #name)
                    {
                        return ::std::option::Option::Some(problem);
                    }
                });
            }
            Role::Buffer => buffers.push(quote_spanned! {span=>
                #support::TensorField::push_tensor(&self.#member, #name, false, &mut out);
            }),
            Role::Skip => {}
        }
    }
    let display_ident = format_ident!("{}", ident);
    let chain = chain.then(|| {
        quote! {
            fn chain(&self) -> ::std::option::Option<::std::vec::Vec<::cnn_lab::nn::Stage<'_>>> {
                ::std::option::Option::Some(#display_ident::stages(self))
            }
        }
    });
    Ok(quote! {
        impl #impl_generics ::cnn_lab::nn::Module for #ident #ty_generics #where_clause {
            fn forward_t(&self, xs: &::cnn_lab::Tensor, train: bool) -> ::cnn_lab::Tensor {
                #support::record(self, || #display_ident::forward(self, xs, train))
            }
            fn type_name(&self) -> ::std::string::String {
                ::std::string::String::from(#class)
            }
            fn children(&self) -> ::std::vec::Vec<(::std::string::String, &dyn ::cnn_lab::nn::Module)> {
                #[allow(unused_mut)]
                let mut out = ::std::vec::Vec::new();
                #(#children)*
                out
            }
            fn own_tensors(&self) -> ::std::vec::Vec<::cnn_lab::nn::NamedTensor> {
                #[allow(unused_mut)]
                let mut out = ::std::vec::Vec::new();
                #(#params)*
                #(#buffers)*
                out
            }
            fn config_error(&self) -> ::std::option::Option<::std::string::String> {
                #(#checks)*
                ::std::option::Option::None
            }
            fn forward_hooks(&self) -> ::std::option::Option<&::cnn_lab::nn::ForwardHooks> {
                ::std::option::Option::Some(#support::hooks_of(self))
            }
            #chain
        }
        impl #impl_generics ::std::fmt::Display for #ident #ty_generics #where_clause {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&#support::repr_text(self))
            }
        }
        impl #impl_generics ::std::fmt::Debug for #ident #ty_generics #where_clause {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&#support::repr_text(self))
            }
        }
        impl #impl_generics ::cnn_lab::tch::nn::ModuleT for #ident #ty_generics #where_clause {
            fn forward_t(&self, xs: &::cnn_lab::Tensor, train: bool) -> ::cnn_lab::Tensor {
                ::cnn_lab::nn::Module::forward_t(self, xs, train)
            }
        }
    })
}
