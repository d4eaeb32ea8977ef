//! `sqlx::migrate!` embeds the migrations when the crate compiles, but Cargo does not know it
//! reads them: without this, a migration added to the folders left a build that did not have it.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
