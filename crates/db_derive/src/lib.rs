//! `#[derive(FromRow)]` for structs with named fields: each field is read, with its type's
//! `ordo_db::Decode`, from the column of the same name.

use proc_macro::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields, parse_macro_input};

#[proc_macro_derive(FromRow)]
pub fn derive_from_row(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    let name = &input.ident;
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    let Data::Struct(data) = &input.data else {
        return syn::Error::new_spanned(name, "FromRow is derived for structs only")
            .to_compile_error()
            .into();
    };
    let Fields::Named(fields) = &data.fields else {
        return syn::Error::new_spanned(name, "FromRow needs named fields, one per column")
            .to_compile_error()
            .into();
    };
    let reads = fields.named.iter().map(|field| {
        let ident = field.ident.as_ref().expect("named fields have names");
        let column = ident.to_string();
        let column = column.strip_prefix("r#").unwrap_or(&column);
        quote! { #ident: row.get(#column)? }
    });
    quote! {
        impl #impl_generics ::ordo_db::FromRow for #name #type_generics #where_clause {
            fn from_row(mut row: ::ordo_db::Row) -> ::std::result::Result<Self, ::ordo_db::Error> {
                ::std::result::Result::Ok(Self { #(#reads),* })
            }
        }
    }
    .into()
}
