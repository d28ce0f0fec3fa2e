//! Attachments end to end, with real multipart uploads and real downloads:
//! the type read from the bytes, photos without their metadata, served only
//! to those who see the owner; stored on the local disk, or in an
//! S3-compatible store (moto's server, a real S3 API over HTTP).

use serde_json::{json, Value};

use crate::db_test;
use crate::helpers::{refusal, refused, Caller, TestApp};
use crate::import::upload_file;

pub const UPLOAD: &str =
    "mutation($input: UploadAttachmentInput!) { uploadAttachment(input: $input) {
    attachment { id name contentType image size url uploadedBy } } }";
const LIST: &str = "query($t: AttachmentOwner!, $id: ID!) { attachments(ownerType: $t, ownerId: $id) { id name } }";
const FILE: &str =
    "mutation($input: FileComplaintInput!) { fileComplaint(input: $input) { complaint { id } } }";

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(name),
    )
    .unwrap()
}

pub async fn attach(
    app: &TestApp,
    who: &Caller,
    owner: &str,
    id: &str,
    name: &str,
    bytes: Vec<u8>,
) -> Value {
    upload_file(
        app,
        who,
        UPLOAD,
        json!({ "ownerType": owner, "ownerId": id, "file": null }),
        name,
        bytes,
    )
    .await
}

/// GET a file as `who`: status, content type, headers, bytes.
pub async fn download(
    app: &TestApp,
    who: &Caller,
    url: &str,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut r = app.client.get(format!("{}{url}", app.base));
    if let Some(t) = &who.token {
        r = r.bearer_auth(t);
    }
    let r = r.send().await.unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, headers, r.bytes().await.unwrap().to_vec())
}

fn has(h: &[u8], n: &str) -> bool {
    h.windows(n.len()).any(|w| w == n.as_bytes())
}

fn stored_files(dir: &std::path::Path) -> usize {
    fn walk(d: &std::path::Path) -> usize {
        std::fs::read_dir(d).map_or(0, |r| {
            r.flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        walk(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
    }
    walk(&dir.join("files"))
}

db_test! {
    async fn attachments_are_sniffed_cleaned_and_served_only_to_those_who_see_the_owner(app: &TestApp) {
        let org = app.create_org("Файлы").await;
        let house = app.create_house(&org, "Мира", "3").await;
        let acc = app.create_account(&app.create_premises(&house, "1", "40").await, "300001").await;
        let other = app.create_account(&app.create_premises(&house, "2", "40").await, "300002").await;
        let resident = app.resident_of("r1@example.org", &acc, "300001").await;
        let neighbour = app.resident_of("r2@example.org", &other, "300002").await;
        let accountant = app.login_as("acc@example.org", &org, &["ACCOUNTANT"], &[]).await;
        let dispatcher = app.login_as("disp@example.org", &org, &["DISPATCHER"], &[]).await;
        let complaint = resident.ok(FILE, json!({ "input": { "accountId": acc, "text": "Протекает потолок в ванной" } })).await
            ["fileComplaint"]["complaint"]["id"].as_str().unwrap().to_string();

        // A phone photo named .HEIC is a JPEG: so it is named and served, without
        // the place, the camera, the owner and the comment; upright still.
        let photo = fixture("photo-gps.jpg");
        assert!(has(&photo, "Ivan Ivanov") && has(&photo, "PhoneMaker") && has(&photo, "secret comment"));
        let up = attach(app, &resident, "COMPLAINT", &complaint, "IMG_0042.HEIC", photo.clone()).await;
        let a = up["data"]["uploadAttachment"]["attachment"].clone();
        assert_eq!((a["name"].clone(), a["contentType"].clone(), a["image"].clone()), (json!("IMG_0042.jpg"), json!("image/jpeg"), json!(true)), "{up}");
        assert!(a["size"].as_i64().unwrap() < photo.len() as i64);
        let url = a["url"].as_str().unwrap().to_string();
        let (status, headers, bytes) = download(app, &resident, &url).await;
        assert_eq!(status, 200);
        assert_eq!(headers["content-type"], "image/jpeg");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert!(headers["content-disposition"].to_str().unwrap().starts_with("inline; filename=\"IMG_0042.jpg\""));
        assert_eq!(bytes.len() as i64, a["size"].as_i64().unwrap());
        for gone in ["Ivan Ivanov", "PhoneMaker", "Model X", "secret comment"] {
            assert!(!has(&bytes, gone), "{gone} is still in the photo");
        }
        assert!(bytes.starts_with(&[0xFF, 0xD8]) && bytes.ends_with(&[0xFF, 0xD9]) && has(&bytes, "Exif\0\0MM"));
        // Unchanged: 304 with the same tag.
        let etag = headers["etag"].to_str().unwrap().to_string();
        let again = app.client.get(format!("{}{url}", app.base)).bearer_auth(resident.token.as_deref().unwrap())
            .header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(again.status().as_u16(), 304);

        // A PNG loses its text chunks.
        let png = attach(app, &resident, "COMPLAINT", &complaint, "screen.png", fixture("photo.png")).await;
        let png_url = png["data"]["uploadAttachment"]["attachment"]["url"].as_str().unwrap().to_string();
        let (_, _, png_bytes) = download(app, &dispatcher, &png_url).await;
        assert!(png_bytes.starts_with(b"\x89PNG") && !has(&png_bytes, "Ivan Ivanov") && !has(&png_bytes, "55.75N"));

        // Refused by content, size, state — nothing stored.
        let before = stored_files(app.data_dir());
        let html = attach(app, &resident, "COMPLAINT", &complaint, "photo.jpg", b"<html><script>alert(1)</script>".to_vec()).await;
        assert_eq!(refusal(&html), refused("VALIDATION", "input.file", "type_not_allowed"));
        let svg = attach(app, &resident, "COMPLAINT", &complaint, "plan.svg", b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec()).await;
        assert_eq!(refusal(&svg).2, "type_not_allowed");
        let cut = attach(app, &resident, "COMPLAINT", &complaint, "cut.jpg", photo[..photo.len() / 2].to_vec()).await;
        assert_eq!(refusal(&cut), refused("VALIDATION", "input.file", "damaged"));
        let mut big = vec![0xFF, 0xD8, 0xFF, 0xE0];
        big.resize(21 * 1024 * 1024, 0);
        let huge = attach(app, &resident, "COMPLAINT", &complaint, "big.jpg", big).await;
        assert_eq!(refusal(&huge), refused("VALIDATION", "input.file", "too_large"));
        let empty = attach(app, &resident, "COMPLAINT", &complaint, "empty.jpg", vec![]).await;
        assert_eq!(refusal(&empty), refused("VALIDATION", "input.file", "empty"));
        assert_eq!(stored_files(app.data_dir()), before);
        assert_eq!(before, 2);

        // Seen only by those who see the complaint: not the neighbour, not the
        // accountant (complaints are not theirs), not without a session.
        assert_eq!(download(app, &neighbour, &url).await.0, 404);
        assert_eq!(download(app, &accountant, &url).await.0, 404);
        assert_eq!(download(app, &app.anonymous(), &url).await.0, 401);
        assert_eq!(download(app, &dispatcher, &url).await.0, 200);
        assert_eq!(refusal(&neighbour.graphql(LIST, json!({ "t": "COMPLAINT", "id": complaint })).await).0, "NOT_FOUND");
        let sneaky = attach(app, &neighbour, "COMPLAINT", &complaint, "x.jpg", photo.clone()).await;
        assert_eq!(refusal(&sneaky).0, "NOT_FOUND");
        let listed = resident.ok(LIST, json!({ "t": "COMPLAINT", "id": complaint })).await;
        assert_eq!(listed["attachments"].as_array().unwrap().len(), 2);
        // The complaint shows them, and its history says a file came.
        let c = resident.ok("query($id: ID!) { complaint(id: $id) { attachments { name } history { kind text } } }", json!({ "id": complaint })).await;
        assert_eq!(c["complaint"]["attachments"], json!([{ "name": "IMG_0042.jpg" }, { "name": "screen.png" }]));
        assert!(c["complaint"]["history"].as_array().unwrap().iter().any(|h| h["kind"] == "attachment" && h["text"] == "IMG_0042.jpg"));

        // An account's scanned contract: staff file it, the account's resident
        // reads it, the neighbour does not; a resident cannot file one.
        let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec();
        let scan = attach(app, &accountant, "ACCOUNT", &acc, "договор.pdf", pdf.clone()).await;
        let scan = scan["data"]["uploadAttachment"]["attachment"].clone();
        assert_eq!((scan["contentType"].clone(), scan["image"].clone()), (json!("application/pdf"), json!(false)));
        let scan_url = scan["url"].as_str().unwrap().to_string();
        assert!(scan_url.ends_with("/%D0%B4%D0%BE%D0%B3%D0%BE%D0%B2%D0%BE%D1%80.pdf"), "{scan_url}");
        let (status, headers, body) = download(app, &resident, &scan_url).await;
        assert_eq!((status, body), (200, pdf.clone()));
        assert!(headers["content-disposition"].to_str().unwrap().contains("filename*=UTF-8''%D0%B4"));
        assert_eq!(download(app, &neighbour, &scan_url).await.0, 404);
        let by_resident = attach(app, &resident, "ACCOUNT", &acc, "my.pdf", pdf).await;
        assert_eq!(refusal(&by_resident).0, "FORBIDDEN");

        // Removing: the neighbour cannot; the uploader can, and the bytes go.
        const DELETE: &str = "mutation($id: ID!) { deleteAttachment(id: $id) { id } }";
        let png_id = png["data"]["uploadAttachment"]["attachment"]["id"].clone();
        assert_eq!(refusal(&neighbour.graphql(DELETE, json!({ "id": png_id })).await).0, "NOT_FOUND");
        resident.ok(DELETE, json!({ "id": png_id })).await;
        assert_eq!(download(app, &resident, &png_url).await.0, 404);
        assert_eq!(stored_files(app.data_dir()), 2);
    }
}

/// The S3 API of moto's server on a free port, started for one test.
struct S3Server {
    child: std::process::Child,
    pub endpoint: String,
}

impl S3Server {
    async fn start() -> S3Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("moto_server (pip install 'moto[server]') runs the S3 test; scripts/test.sh installs it");
        let endpoint = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let server = S3Server { child, endpoint };
        for _ in 0..100 {
            if client
                .get(format!("{}/", server.endpoint))
                .send()
                .await
                .is_ok()
            {
                return server;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("moto_server did not start on {}", server.endpoint);
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_live_in_an_s3_compatible_store_when_one_is_configured() {
    let s3 = S3Server::start().await;
    let client = reqwest::Client::new();
    // The bucket, as an operator creates it.
    assert!(client
        .put(format!("{}/kvartal-files", s3.endpoint))
        .send()
        .await
        .unwrap()
        .status()
        .is_success());
    let endpoint = s3.endpoint.clone();
    let app = crate::helpers::spawn_app_with(crate::helpers::Db::Sqlite, move |s| {
        s.s3_bucket = Some("kvartal-files".into());
        s.s3_endpoint = Some(endpoint);
        s.s3_region = "eu-central-1".into();
        s.s3_access_key_id = Some("test".into());
        s.s3_secret_access_key = Some(kvartal::config::Secret("test".into()));
    })
    .await;
    let org = app.create_org("S3").await;
    let house = app.create_house(&org, "Rua das Flores", "10").await;
    let acc = app
        .create_account(&app.create_premises(&house, "101", "60").await, "101")
        .await;
    let resident = app.resident_of("s3@example.org", &acc, "101").await;
    let complaint = resident.ok(FILE, json!({ "input": { "accountId": acc, "text": "Vazamento no banheiro do apartamento" } })).await
        ["fileComplaint"]["complaint"]["id"].as_str().unwrap().to_string();
    let up = attach(
        &app,
        &resident,
        "COMPLAINT",
        &complaint,
        "vazamento.jpg",
        fixture("photo-gps.jpg"),
    )
    .await;
    let a = up["data"]["uploadAttachment"]["attachment"].clone();
    let (status, _, bytes) = download(&app, &resident, a["url"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{up}");
    assert!(!has(&bytes, "Ivan Ivanov") && bytes.starts_with(&[0xFF, 0xD8]));
    // The bytes are in the bucket under the organisation, not on the disk.
    let listing = client
        .get(format!("{}/kvartal-files?list-type=2", s3.endpoint))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        listing.contains(&format!("<Key>{org}/")) && listing.contains(a["id"].as_str().unwrap()),
        "{listing}"
    );
    assert_eq!(stored_files(app.data_dir()), 0);
    app.cleanup().await;
}
