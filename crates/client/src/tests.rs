//! The client and the upload engine against the in-memory mock server ([`crate::mock`]).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use coffer_core::ErrorCode;

use crate::mock::{self, Shared};
use crate::transfer::{FileStatus, Progress, UploadItem, UploadOptions, collect_items, upload};
use crate::{Client, DownloadSource};

use coffer_core::testing::pseudo_random as noise;

async fn server() -> (Client, Shared) {
    let (url, state) = mock::start().await;
    (Client::new(&url, Some("token".into())).expect("valid url"), state)
}

fn calls(state: &Shared, name: &str) -> usize {
    state.lock().map(|s| s.calls(name)).unwrap_or(0)
}

fn counter() -> (Arc<AtomicU64>, Arc<dyn Fn(Progress) + Send + Sync>) {
    let sent = Arc::new(AtomicU64::new(0));
    let seen = sent.clone();
    let progress = Arc::new(move |p| {
        if let Progress::BytesSent(n) = p {
            seen.fetch_add(n, Ordering::Relaxed);
        }
    });
    (sent, progress)
}

fn write(dir: &Path, name: &str, data: &[u8]) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(path, data).expect("write");
}

#[tokio::test]
async fn small_files_go_in_one_batch_and_rerun_is_unchanged() {
    let (client, state) = server().await;
    let tmp = tempfile::tempdir().expect("tempdir");
    for i in 0..8 {
        write(tmp.path(), &format!("sub/f{i}.txt"), format!("file number {i}").as_bytes());
    }
    write(tmp.path(), "dup1", b"same bytes");
    write(tmp.path(), "dup2", b"same bytes");
    write(tmp.path(), "empty", b"");
    let items = collect_items(tmp.path(), "/dst").expect("walk");
    assert_eq!(items.len(), 11);
    let (sent, progress) = counter();
    let report = upload(&client, items.clone(), &UploadOptions::default(), progress).await.expect("upload");
    assert!(report.files.iter().all(|f| f.status == FileStatus::Created), "{report:?}");
    assert_eq!(report.files[0].remote, "/dst/dup1", "reports keep the items' order");
    assert_eq!(report.bytes_total, 8 * 13 + 20);
    assert_eq!(report.bytes_sent, 8 * 13 + 10, "the duplicate is sent once");
    assert_eq!(sent.load(Ordering::Relaxed), report.bytes_sent);
    assert_eq!(report.files.iter().find(|f| f.remote == "/dst/empty").map(|f| f.bytes_total), Some(0));
    assert_eq!(calls(&state, "begin_upload"), 1);
    assert_eq!(calls(&state, "put_chunks"), 1);
    assert_eq!(calls(&state, "put_chunk"), 0);
    assert_eq!(calls(&state, "commit"), 1);
    assert_eq!(state.lock().expect("lock").content("/dst/sub/f3.txt"), Some(b"file number 3".to_vec()));

    // Again: every destination already has the content.
    let (_, progress) = counter();
    let again = upload(&client, items.clone(), &UploadOptions::default(), progress).await.expect("upload");
    assert!(again.files.iter().all(|f| f.status == FileStatus::Unchanged && f.rev.is_some()), "{again:?}");
    assert_eq!(again.bytes_sent, 0);
    assert_eq!(calls(&state, "commit"), 1, "nothing committed");

    // One edit: overwritten with the current revision as parent.
    write(tmp.path(), "sub/f3.txt", b"edited");
    let (_, progress) = counter();
    let third = upload(&client, items, &UploadOptions::default(), progress).await.expect("upload");
    let edited: Vec<_> = third.files.iter().filter(|f| f.status == FileStatus::Modified).collect();
    assert_eq!(edited.len(), 1);
    assert_eq!(edited[0].remote, "/dst/sub/f3.txt");
    assert_eq!(third.bytes_sent, 6);
    assert_eq!(state.lock().expect("lock").content("/dst/sub/f3.txt"), Some(b"edited".to_vec()));
}

#[tokio::test]
async fn batches_respect_file_count() {
    let (client, state) = server().await;
    let tmp = tempfile::tempdir().expect("tempdir");
    for i in 0..7 {
        write(tmp.path(), &format!("f{i}"), &noise(100, i + 1));
    }
    let items = collect_items(tmp.path(), "/x").expect("walk");
    let opts = UploadOptions { batch_files: 3, ..UploadOptions::default() };
    let (_, progress) = counter();
    let report = upload(&client, items, &opts, progress).await.expect("upload");
    assert!(report.files.iter().all(|f| f.status == FileStatus::Created));
    assert_eq!(calls(&state, "commit"), 3);
}

#[tokio::test]
async fn large_files_are_streamed_and_deltas_are_small() {
    let (client, state) = server().await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = noise(9 * 1024 * 1024, 7);
    write(tmp.path(), "big.bin", &data);
    let item = UploadItem::new(tmp.path().join("big.bin"), "/big.bin");
    // A 1 MiB batch budget makes anything over 256 KiB a large file.
    let opts = UploadOptions { batch_bytes: 1024 * 1024, concurrency: 3, ..UploadOptions::default() };
    let (sent, progress) = counter();
    let report = upload(&client, vec![item.clone()], &opts, progress).await.expect("upload");
    let f = &report.files[0];
    assert_eq!((f.status, f.bytes_total, f.bytes_sent), (FileStatus::Created, data.len() as u64, data.len() as u64));
    assert_eq!(sent.load(Ordering::Relaxed), data.len() as u64);
    let chunks = calls(&state, "put_chunk");
    assert!(chunks >= 3, "{chunks} chunk PUTs");
    assert_eq!(calls(&state, "put_chunks"), 0);

    let dest = tmp.path().join("back.bin");
    let got = client.download(DownloadSource::Path("/big.bin".into(), None), &dest, &|_| {}).await.expect("download");
    assert_eq!(got.bytes, data.len() as u64);
    assert_eq!(
        got.content_hash,
        f.rev.and(
            state
                .lock()
                .expect("lock")
                .files
                .get("/big.bin")
                .map(|m| { coffer_core::Manifest::new(m.chunks.clone()).content_hash() })
        )
    );
    assert_eq!(std::fs::read(&dest).expect("read"), data);

    // Change the tail: only the last chunk or two travel.
    let mut edited = data.clone();
    let n = edited.len();
    edited[n - 10..].copy_from_slice(b"0123456789");
    write(tmp.path(), "big.bin", &edited);
    let (_, progress) = counter();
    let report = upload(&client, vec![item], &opts, progress).await.expect("upload");
    let f = &report.files[0];
    assert_eq!(f.status, FileStatus::Modified);
    assert!(f.bytes_sent > 0 && f.bytes_sent < f.bytes_total / 2, "sent {} of {}", f.bytes_sent, f.bytes_total);
    assert_eq!(state.lock().expect("lock").content("/big.bin"), Some(edited));
}

#[tokio::test]
async fn conflicts_and_missing_chunks_are_handled_per_file() {
    let (client, state) = server().await;
    let tmp = tempfile::tempdir().expect("tempdir");
    write(tmp.path(), "a", b"aaa");
    write(tmp.path(), "b", b"bbb");
    state.lock().expect("lock").put_file("/d/a", b"old a");
    let items = collect_items(tmp.path(), "/d").expect("walk");

    // The server loses the chunks once: they are sent again and the commit retried.
    state.lock().expect("lock").forget_chunks_once = true;
    let (_, progress) = counter();
    let report = upload(&client, items.clone(), &UploadOptions::default(), progress).await.expect("upload");
    let statuses: Vec<FileStatus> = report.files.iter().map(|f| f.status).collect();
    assert_eq!(statuses, [FileStatus::Modified, FileStatus::Created]);
    assert_eq!(calls(&state, "commit"), 2);
    assert_eq!(calls(&state, "put_chunks"), 2);
    assert_eq!(report.bytes_sent, 12, "each byte counted once per time it travelled");

    // Someone edits both files between our listing and our commit.
    write(tmp.path(), "a", b"new a");
    write(tmp.path(), "b", b"new b");
    state.lock().expect("lock").edit_before_commit = true;
    let (_, progress) = counter();
    let report = upload(&client, items, &UploadOptions::default(), progress).await.expect("upload");
    assert!(report.files.iter().all(|f| f.status == FileStatus::Conflict), "{report:?}");
    assert!(report.files[0].error.as_deref().is_some_and(|e| e.starts_with("conflict")));
    assert_eq!(state.lock().expect("lock").content("/d/a"), Some(b"aaa".to_vec()));
}

#[tokio::test]
async fn bad_items_fail_alone() {
    let (client, _state) = server().await;
    let tmp = tempfile::tempdir().expect("tempdir");
    write(tmp.path(), "ok", b"fine");
    let items = vec![
        UploadItem::new(tmp.path().join("missing"), "/m"),
        UploadItem::new(tmp.path().join("ok"), "/ok"),
        UploadItem::new(tmp.path().join("ok"), "/bad/../x"),
    ];
    let (_, progress) = counter();
    let report = upload(&client, items, &UploadOptions::default(), progress).await.expect("upload");
    let statuses: Vec<FileStatus> = report.files.iter().map(|f| f.status).collect();
    assert_eq!(statuses, [FileStatus::Failed, FileStatus::Created, FileStatus::Failed]);
}

#[tokio::test]
async fn unreachable_server_stops_the_upload() {
    let client = Client::new("http://127.0.0.1:9", None).expect("valid");
    let tmp = tempfile::tempdir().expect("tempdir");
    write(tmp.path(), "f", b"x");
    let items = vec![UploadItem::new(tmp.path().join("f"), "/f")];
    let (_, progress) = counter();
    let err = upload(&client, items, &UploadOptions::default(), progress).await.expect_err("no server");
    assert!(matches!(err, crate::ClientError::Transport(ref m) if m.contains("127.0.0.1:9")), "{err}");
}

#[tokio::test]
async fn downloads_resume_after_a_cut() {
    let (client, state) = server().await;
    let data = noise(700_000, 3);
    {
        let mut st = state.lock().expect("lock");
        st.put_file("/f.bin", &data);
        st.cut_download_after = Some(100_000);
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dest = tmp.path().join("f.bin");
    let seen = AtomicU64::new(0);
    let report = client
        .download(DownloadSource::Path("/f.bin".into(), None), &dest, &|n| {
            seen.fetch_add(n, Ordering::Relaxed);
        })
        .await
        .expect("download");
    assert_eq!(report.bytes, data.len() as u64);
    assert_eq!(seen.load(Ordering::Relaxed), data.len() as u64, "no byte counted twice");
    assert_eq!(std::fs::read(&dest).expect("read"), data);
    assert_eq!(calls(&state, "content"), 2);
    assert_eq!(calls(&state, "content_range"), 1);
    let leftovers = std::fs::read_dir(tmp.path()).expect("list").count();
    assert_eq!(leftovers, 1, "no temporary file left behind");
}

#[tokio::test]
async fn downloads_restart_when_the_file_changed() {
    let (client, state) = server().await;
    let old = noise(500_000, 4);
    let new = noise(300_000, 5);
    {
        let mut st = state.lock().expect("lock");
        st.put_file("/f.bin", &old);
        st.cut_download_after = Some(200_000);
        st.replace_after_cut = Some(new.clone());
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dest = tmp.path().join("f.bin");
    std::fs::write(&dest, b"previous").expect("write");
    let report = client.download(DownloadSource::Path("/f.bin".into(), None), &dest, &|_| {}).await.expect("download");
    assert_eq!(report.bytes, new.len() as u64);
    assert_eq!(std::fs::read(&dest).expect("read"), new);
    assert_eq!(calls(&state, "content_range"), 0, "the If-Range did not match");
}

#[tokio::test]
async fn busy_answers_are_retried_and_errors_keep_their_code() {
    let (client, state) = server().await;
    state.lock().expect("lock").fail_next = 2;
    assert_eq!(client.health().await.expect("health after retries").status, "ok");
    assert_eq!(calls(&state, "health"), 1);

    let err = client.stat("/nothing").await.expect_err("missing");
    assert_eq!((err.code(), err.status()), (Some(ErrorCode::NotFound), Some(404)));
    assert!(client.stat_optional("/nothing").await.expect("ok").is_none());

    state.lock().expect("lock").fail_next = 100;
    let err = client.health().await.expect_err("still busy");
    assert_eq!(err.code(), Some(ErrorCode::Busy));
    state.lock().expect("lock").fail_next = 0;
}

#[tokio::test]
async fn listings_follow_every_page() {
    let (client, state) = server().await;
    {
        let mut st = state.lock().expect("lock");
        for name in ["e", "a", "c", "b", "d"] {
            st.put_file(&format!("/dir/{name}"), name.as_bytes());
        }
        st.put_file("/dir/sub/x", b"x");
    }
    let names: Vec<String> = client.list("/dir").await.expect("list").into_iter().map(|n| n.name).collect();
    assert_eq!(names, ["a", "b", "c", "d", "e", "sub"]);
    assert_eq!(calls(&state, "list"), 3);
    let with_space = client.stat("/dir/a").await.expect("stat");
    assert_eq!(with_space.size, 1);
}
