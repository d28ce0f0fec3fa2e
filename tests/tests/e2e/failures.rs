//! Failing storage: the SQLite database on a small tmpfs that fills up, and on an ext4 image that the kernel makes read-only. Every payment the server acknowledged is there after a
//! restart; every refusal names its cause; the server recovers without one.
//!
//! These tests mount file systems, so they need root: `scripts/isolated.sh`
//! (which the test command runs) runs them; `cargo test` alone skips them.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, Db, TestApp};

const RECORD: &str =
    "mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { payment { id } } }";

/// A tmpfs of `size` mounted on a new folder, unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(size: &str) -> Mount {
        let dir =
            std::env::temp_dir().join(format!("kvartal-fs-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        run(
            "mount",
            &[
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size}"),
                "tmpfs",
                dir.to_str().unwrap(),
            ],
        );
        Mount(dir)
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

fn run(program: &str, args: &[&str]) {
    let status = Command::new(program).args(args).status().unwrap();
    assert!(
        status.success(),
        "{program} {args:?} failed (these tests need root)"
    );
}

/// Fills the file system under `dir` with one file until it is full.
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while file.write_all(&chunk).is_ok() {}
    let _ = file.sync_all();
    path
}

struct Ledger {
    acknowledged: Vec<String>,
    refused: Vec<Value>,
}

impl Ledger {
    /// Records `n` payments one by one; each is acknowledged with an id or
    /// refused with an error.
    async fn pay(&mut self, app: &TestApp, account: &str, n: usize) -> (usize, usize) {
        let (ok_before, refused_before) = (self.acknowledged.len(), self.refused.len());
        for _ in 0..n {
            let r = app
                .graphql(
                    RECORD,
                    json!({ "input": { "accountId": account, "amount": "10.00",
                    "method": "CASH", "paidOn": "2026-11-20",
                    "idempotencyKey": uuid::Uuid::now_v7().to_string() } }),
                )
                .await;
            match r["data"]["recordPayment"]["payment"]["id"].as_str() {
                Some(id) => self.acknowledged.push(id.to_string()),
                None => self.refused.push(r["errors"][0].clone()),
            }
        }
        (
            self.acknowledged.len() - ok_before,
            self.refused.len() - refused_before,
        )
    }
}

impl Ledger {
    /// Restarts the server and checks that every acknowledged payment is
    /// stored and nothing refused is; prints the counts.
    async fn survives_a_restart(&self, app: &mut TestApp, what: &str) {
        app.restart().await;
        let stored = stored_payments(app).await;
        let missing: Vec<_> = self
            .acknowledged
            .iter()
            .filter(|id| !stored.contains(*id))
            .collect();
        println!(
            "{what}: {} payments acknowledged, {} refused, {} missing after a restart",
            self.acknowledged.len(),
            self.refused.len(),
            missing.len()
        );
        assert!(missing.is_empty(), "acknowledged but missing: {missing:?}");
        assert_eq!(
            stored.len(),
            self.acknowledged.len(),
            "nothing refused was stored"
        );
    }
}

async fn stored_payments(app: &TestApp) -> std::collections::HashSet<String> {
    use sea_orm::ConnectionTrait;
    let db = app.db();
    let rows = schema::tenancy::as_system(db.query_all_raw(sea_orm::Statement::from_string(
        db.get_database_backend(),
        "SELECT id FROM payments",
    )))
    .await
    .unwrap();
    rows.iter()
        .map(|r| r.try_get::<uuid::Uuid>("", "id").unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "mounts a tmpfs: run as root by scripts/isolated.sh"]
async fn acknowledged_payments_survive_a_full_disk() {
    let mount = Mount::tmpfs("48m");
    let data = mount.0.join("data");
    let mut app = spawn_app_with(Db::Sqlite, |s| s.data_dir = data.clone()).await;
    let org = app.create_org("Disk").await;
    let house = app.create_house(&org, "Ленина", "1").await;
    let premises = app.create_premises(&house, "1", "50").await;
    let account = app.create_account(&premises, "100001").await;
    let mut ledger = Ledger {
        acknowledged: Vec::new(),
        refused: Vec::new(),
    };
    assert_eq!(ledger.pay(&app, &account, 3).await, (3, 0));

    // The disk fills up: payments are refused, each naming the cause.
    let filler = fill(&mount.0);
    let (_, refused) = ledger.pay(&app, &account, 30).await;
    assert!(refused > 0, "a full disk refuses payments");
    for e in &ledger.refused {
        assert_eq!(e["extensions"]["code"], "DATABASE_UNAVAILABLE", "{e}");
        assert!(
            e["message"].as_str().unwrap().contains("disk is full"),
            "{e}"
        );
    }
    // Space returns: every payment is taken again, without a restart.
    std::fs::remove_file(&filler).unwrap();
    assert_eq!(
        ledger.pay(&app, &account, 30).await,
        (30, 0),
        "{:?}",
        ledger.refused.last()
    );

    // Nothing acknowledged is missing once the server starts again.
    ledger.survives_a_restart(&mut app, "full disk").await;
    app.cleanup().await;
    drop(mount);
}

/// An ext4 file system in an image file on a loop device, mounted with
/// `errors=remount-ro` as servers' disks are: on an error the kernel makes it
/// read-only for every open file, and only a new mount makes it writable.
struct Ext4 {
    image: PathBuf,
    dir: PathBuf,
}

impl Ext4 {
    fn new(size: &str) -> Ext4 {
        let base =
            std::env::temp_dir().join(format!("kvartal-ext4-{}", uuid::Uuid::now_v7().simple()));
        let dir = base.join("mnt");
        std::fs::create_dir_all(&dir).unwrap();
        let image = base.join("disk.img");
        run("truncate", &["-s", size, image.to_str().unwrap()]);
        run("mkfs.ext4", &["-q", "-F", image.to_str().unwrap()]);
        let fs = Ext4 { image, dir };
        fs.mount();
        fs
    }

    /// Mounts the image through a loop device of its own (mount's `-o loop`
    /// would reuse the device of the failed mount, and with it the read-only
    /// file system).
    fn mount(&self) {
        let out = Command::new("losetup")
            .args(["--find", "--show"])
            .arg(&self.image)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "losetup failed (these tests need root)"
        );
        let device = String::from_utf8(out.stdout).unwrap().trim().to_string();
        run(
            "mount",
            &[
                "-o",
                "errors=remount-ro",
                &device,
                self.dir.to_str().unwrap(),
            ],
        );
        // Detached by the kernel once nothing uses it.
        run("losetup", &["-d", &device]);
    }

    /// An error as a failing disk raises it: the kernel remounts the file
    /// system read-only (ext4's own test hook).
    fn fail(&self) {
        let out = Command::new("findmnt")
            .args(["-no", "SOURCE"])
            .arg(&self.dir)
            .output()
            .unwrap();
        let source = String::from_utf8(out.stdout).unwrap();
        let device = source.trim().trim_start_matches("/dev/");
        std::fs::write(
            format!("/sys/fs/ext4/{device}/trigger_fs_error"),
            "kvartal test: the disk fails",
        )
        .unwrap();
        let options = Command::new("findmnt")
            .args(["-no", "OPTIONS"])
            .arg(&self.dir)
            .output()
            .unwrap();
        let options = String::from_utf8(options.stdout).unwrap();
        assert!(
            options.contains("ro"),
            "the file system went read-only: {options}"
        );
    }

    /// What an operator does: detach the broken mount, check the file
    /// system, mount it again in the same place.
    fn repair(&self) {
        run("umount", &["-l", self.dir.to_str().unwrap()]);
        let status = Command::new("e2fsck")
            .args(["-f", "-y"])
            .arg(&self.image)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        // 0: clean, 1: errors corrected.
        assert!(
            matches!(status.code(), Some(0 | 1)),
            "e2fsck failed: {status}"
        );
        self.mount();
    }
}

impl Drop for Ext4 {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        if let Some(base) = self.dir.parent() {
            let _ = std::fs::remove_dir_all(base);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "mounts a loop device: run as root by scripts/isolated.sh"]
async fn acknowledged_payments_survive_a_read_only_file_system() {
    let fs = Ext4::new("96M");
    let data = fs.dir.join("data");
    let mut app = spawn_app_with(Db::Sqlite, |s| s.data_dir = data.clone()).await;
    let org = app.create_org("Read-only").await;
    let house = app.create_house(&org, "Ленина", "2").await;
    let premises = app.create_premises(&house, "1", "50").await;
    let account = app.create_account(&premises, "200001").await;
    let mut ledger = Ledger {
        acknowledged: Vec::new(),
        refused: Vec::new(),
    };
    assert_eq!(ledger.pay(&app, &account, 3).await, (3, 0));

    // The disk fails and the kernel makes it read-only: every payment is
    // refused, naming the database and why, and nothing hangs.
    fs.fail();
    let started = std::time::Instant::now();
    assert_eq!(ledger.pay(&app, &account, 10).await, (0, 10));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "refusals come quickly"
    );
    for e in &ledger.refused {
        assert_eq!(e["extensions"]["code"], "DATABASE_UNAVAILABLE", "{e}");
        assert_eq!(e["extensions"]["what"], "database", "{e}");
        let message = e["message"].as_str().unwrap();
        assert!(
            message.contains("read-only")
                || message.contains("I/O error")
                || message.contains("cannot open"),
            "the cause is named: {e}"
        );
    }

    // The operator repairs and remounts it: payments are taken again without
    // a restart (the connections on the failed mount are not reused).
    fs.repair();
    assert_eq!(
        ledger.pay(&app, &account, 10).await,
        (10, 0),
        "{:?}",
        ledger.refused.last()
    );

    ledger
        .survives_a_restart(&mut app, "read-only file system")
        .await;
    app.cleanup().await;
}
