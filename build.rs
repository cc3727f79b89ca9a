// The task history schema is embedded with `sqlx::migrate!("./migrations")`; rebuild when a
// migration changes (the sqlx-recommended build script).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
