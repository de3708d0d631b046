//! Public links over real HTTP, on every engine: what a visitor sees and downloads
//! (listings, ranges, a folder's zip read back by Python's `zipfile`), and every way a
//! link stops working: download limit, password, view-only, trash (and back after a
//! restore), revocation, expiry, purge.

use std::collections::HashMap;

use bytes::Bytes;
use coffer_core::wire::{LinkRequest, LinkState};
use coffer_core::{ChunkHash, ChunkRef, LinkId, NodeId};
use coffer_service::CommitFile;
use reqwest::StatusCode;
use serde_json::{Value, json};

mod support;

use support::{caller, envs, put, read_zip, read_zip_with};

fn link(path: &str) -> LinkRequest {
    LinkRequest { path: path.into(), expires_at: None, password: None, max_downloads: None, allow_download: true }
}

#[tokio::test]
async fn visitors_see_and_download_through_a_link_and_nothing_else() {
    for env in envs().await {
        let s = &env.service;
        let olive = caller(s, "olive").await;
        let big: Vec<u8> = (0..3_500_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        put(s, &olive, "/Docs/a.txt", b"alpha", 1 << 20).await;
        put(s, &olive, "/Docs/sub/big.bin", &big, 1 << 20).await;
        put(s, &olive, "/Docs/sub/ünï cödé.txt", "grüße".as_bytes(), 1 << 20).await;
        s.mkdir(&olive, "/Docs/empty", false).await.expect("mkdir");
        put(s, &olive, "/Private/secret.txt", b"not linked", 1 << 20).await;

        let made = s.create_link(&olive, &link("/Docs")).await.expect("link");
        assert!(made.token.len() >= 22, "at least 128 random bits: {}", made.token);
        assert_eq!(made.url_path, format!("/s/{}", made.token));
        let t = made.token.clone();

        let (status, v) = env.json(&format!("/api/v1/public/{t}")).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!((v["item"]["name"].as_str(), v["item"]["kind"].as_str()), (Some("Docs"), Some("folder")));
        assert_eq!(v["item"]["path"], "/");
        let (_, v) = env.json(&format!("/api/v1/public/{t}/list?path=/sub")).await;
        let names: Vec<&str> =
            v["entries"].as_array().expect("entries").iter().filter_map(|e| e["name"].as_str()).collect();
        assert_eq!(names, ["big.bin", "ünï cödé.txt"]);
        assert_eq!(v["entries"][0]["path"], "/sub/big.bin");
        assert_eq!(v["entries"][0]["size"], big.len() as u64);
        // Paging.
        let (_, v) = env.json(&format!("/api/v1/public/{t}/list?path=/&limit=1")).await;
        assert_eq!(v["entries"].as_array().map(Vec::len), Some(1));
        let after = v["next_after"].as_str().expect("more").to_owned();
        let (_, v) = env.json(&format!("/api/v1/public/{t}/list?path=/&limit=5&after={after}")).await;
        assert_eq!(v["entries"].as_array().map(Vec::len), Some(2));

        // Nothing outside the linked folder: no climbing, no other tree.
        for path in ["/..", "/../Private/secret.txt", "/Private/secret.txt", "/sub/../../Private"] {
            let (status, code) = env.code(&format!("/api/v1/public/{t}/stat?path={path}")).await;
            assert!(status.is_client_error(), "{path}: {status}");
            assert!(code == "not_found" || code == "invalid_name", "{path}: {code}");
        }

        // A file: whole, a range, and not modified.
        let (status, h, body) = env.get(&format!("/api/v1/public/{t}/content?path=/sub/big.bin"), &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body.as_ref(), big.as_slice());
        let etag = h["etag"].to_str().expect("etag").to_owned();
        assert!(h["content-disposition"].to_str().expect("cd").contains("big.bin"));
        let (status, _, body) = env
            .get(&format!("/api/v1/public/{t}/content?path=/sub/big.bin"), &[("range", "bytes=1048570-1048590")])
            .await;
        assert_eq!(status, StatusCode::PARTIAL_CONTENT);
        assert_eq!(body.as_ref(), &big[1_048_570..=1_048_590]);
        let (status, _, _) =
            env.get(&format!("/api/v1/public/{t}/content?path=/sub/big.bin"), &[("if-none-match", &etag)]).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED);
        let (status, code) = env.code(&format!("/api/v1/public/{t}/content?path=/sub")).await;
        assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "not_a_file"));

        // The folder as a zip, read back by another implementation.
        for url in [format!("/api/v1/public/{t}/zip"), format!("/s/{t}")] {
            let (status, h, body) = env.get(&url, &[]).await;
            assert_eq!(status, StatusCode::OK, "{url}");
            assert_eq!(h["content-type"], "application/zip");
            assert!(h["content-disposition"].to_str().expect("cd").contains("Docs.zip"));
            let file = env.dir.path().join("docs.zip");
            std::fs::write(&file, &body).expect("write zip");
            let (listing, data) = read_zip(&file, "Docs/sub/big.bin");
            let listing: HashMap<String, u64> = listing.into_iter().collect();
            for (name, size) in [
                ("Docs/", 0),
                ("Docs/a.txt", 5),
                ("Docs/empty/", 0),
                ("Docs/sub/", 0),
                ("Docs/sub/big.bin", big.len() as u64),
                ("Docs/sub/ünï cödé.txt", "grüße".len() as u64),
            ] {
                assert_eq!(listing.get(name), Some(&size), "{name} in {listing:?}");
            }
            assert_eq!(listing.len(), 6, "{listing:?}");
            assert!(data == big, "the big file comes back whole");
        }
        // A subfolder's zip is named after it.
        let (status, h, _) = env.get(&format!("/api/v1/public/{t}/zip?path=/sub"), &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(h["content-disposition"].to_str().expect("cd").contains("sub.zip"));

        // A file link: `/s/` is the file itself.
        let file_link = s.create_link(&olive, &link("/Docs/a.txt")).await.expect("file link");
        let (status, _, body) = env.get(&format!("/s/{}", file_link.token), &[]).await;
        assert_eq!((status, body.as_ref()), (StatusCode::OK, b"alpha".as_ref()));
        let (status, code) = env.code(&format!("/api/v1/public/{}/list", file_link.token)).await;
        assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "not_a_folder"));

        // The owner lists links, all or by item.
        let all = s.links(&olive, None).await.expect("links");
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].path.as_deref(), Some("/Docs"));
        assert_eq!(s.links(&olive, Some("/Docs/a.txt")).await.expect("links").len(), 1);
        // Another user sees none of them and cannot revoke them.
        let nora = caller(s, "nora").await;
        assert!(s.links(&nora, None).await.expect("links").is_empty());
        let err = s.revoke_link(&nora, LinkId(made.id)).await.expect_err("not hers");
        assert_eq!(err.code, coffer_core::ErrorCode::NotFound);
    }
}

#[tokio::test]
async fn links_stop_by_limit_password_view_only_trash_revocation_expiry_and_purge() {
    for env in envs().await {
        let s = &env.service;
        let olive = caller(s, "olive").await;
        put(s, &olive, "/Docs/a.txt", b"alpha bravo", 1 << 20).await;
        put(s, &olive, "/Docs/b.txt", b"charlie", 1 << 20).await;

        // Download limit: a request from byte 0 counts, a later range does not.
        let limited =
            s.create_link(&olive, &LinkRequest { max_downloads: Some(2), ..link("/Docs/a.txt") }).await.expect("link");
        let url = format!("/s/{}", limited.token);
        assert_eq!(env.get(&url, &[]).await.0, StatusCode::OK);
        assert_eq!(env.get(&url, &[("range", "bytes=6-")]).await.0, StatusCode::PARTIAL_CONTENT);
        let (_, v) = env.json(&format!("/api/v1/public/{}", limited.token)).await;
        assert_eq!(v["downloads_left"], 1);
        assert_eq!(env.get(&url, &[]).await.0, StatusCode::OK);
        assert_eq!(env.code(&url).await, (StatusCode::GONE, "link_exhausted".into()));
        assert_eq!(env.code(&format!("/api/v1/public/{}", limited.token)).await.1, "link_exhausted");

        // Password: nothing without it; a key from the right one opens the link, by
        // header or query; a wrong one is refused.
        let locked = s
            .create_link(&olive, &LinkRequest { password: Some("open sesame".into()), ..link("/Docs") })
            .await
            .expect("link");
        let t = &locked.token;
        assert_eq!(
            env.code(&format!("/api/v1/public/{t}")).await,
            (StatusCode::UNAUTHORIZED, "password_required".into())
        );
        assert_eq!(env.code(&format!("/s/{t}")).await.1, "password_required");
        let unlock = |password: &str| {
            env.http.post(format!("{}/api/v1/public/{t}/unlock", env.base)).json(&json!({"password": password})).send()
        };
        let wrong = unlock("open says me").await.expect("send");
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        let right = unlock("open sesame").await.expect("send");
        assert_eq!(right.status(), StatusCode::OK);
        let key = right.json::<Value>().await.expect("json")["key"].as_str().expect("key").to_owned();
        let (status, _, _) = env.get(&format!("/api/v1/public/{t}"), &[("x-coffer-link-key", &key)]).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _, body) = env.get(&format!("/api/v1/public/{t}/content?path=/b.txt&key={key}"), &[]).await;
        assert_eq!((status, body.as_ref()), (StatusCode::OK, b"charlie".as_ref()));
        // The key opens that link only.
        let locked_too = LinkRequest { password: Some("open sesame".into()), ..link("/Docs") };
        let other = s.create_link(&olive, &locked_too).await.expect("link");
        let (status, _, _) = env.get(&format!("/api/v1/public/{}", other.token), &[("x-coffer-link-key", &key)]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        // View only: look, never download.
        let look = s.create_link(&olive, &LinkRequest { allow_download: false, ..link("/Docs") }).await.expect("link");
        let (status, v) = env.json(&format!("/api/v1/public/{}", look.token)).await;
        assert_eq!((status, v["allow_download"].as_bool()), (StatusCode::OK, Some(false)));
        assert_eq!(env.json(&format!("/api/v1/public/{}/list", look.token)).await.0, StatusCode::OK);
        for url in [
            format!("/api/v1/public/{}/content?path=/a.txt", look.token),
            format!("/api/v1/public/{}/zip", look.token),
            format!("/s/{}", look.token),
        ] {
            assert_eq!(env.code(&url).await, (StatusCode::FORBIDDEN, "download_disabled".into()), "{url}");
        }

        // Trash: the link stops (as if it did not exist) and comes back with a restore.
        let open = s.create_link(&olive, &link("/Docs/b.txt")).await.expect("link");
        let folder_link = s.create_link(&olive, &link("/Docs")).await.expect("link");
        let trashed = s.delete(&olive, "/Docs").await.expect("trash");
        for token in [&open.token, &folder_link.token] {
            assert_eq!(env.code(&format!("/api/v1/public/{token}")).await, (StatusCode::NOT_FOUND, "not_found".into()));
        }
        let listed = s.links(&olive, None).await.expect("links");
        let state = listed.iter().find(|l| l.id == open.id).map(|l| (l.state, l.path.clone()));
        assert_eq!(state, Some((LinkState::Unavailable, None)));
        s.trash_restore(&olive, NodeId(trashed.id)).await.expect("restore");
        let (status, _, body) = env.get(&format!("/s/{}", open.token), &[]).await;
        assert_eq!((status, body.as_ref()), (StatusCode::OK, b"charlie".as_ref()));
        assert_eq!(env.json(&format!("/api/v1/public/{}", folder_link.token)).await.0, StatusCode::OK);

        // Revoked.
        let revoked = s.revoke_link(&olive, LinkId(open.id)).await.expect("revoke");
        assert_eq!(revoked.state, LinkState::Revoked);
        assert_eq!(env.code(&format!("/s/{}", open.token)).await, (StatusCode::GONE, "link_revoked".into()));

        // Expired.
        let soon = coffer_metastore::now_ms() + 400;
        let expiring =
            s.create_link(&olive, &LinkRequest { expires_at: Some(soon), ..link("/Docs/a.txt") }).await.expect("link");
        assert_eq!(env.get(&format!("/s/{}", expiring.token), &[]).await.0, StatusCode::OK);
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert_eq!(env.code(&format!("/s/{}", expiring.token)).await, (StatusCode::GONE, "link_expired".into()));

        // Bad requests.
        for (req, code) in [
            (LinkRequest { expires_at: Some(1), ..link("/Docs") }, "bad_request"),
            (LinkRequest { max_downloads: Some(0), ..link("/Docs") }, "bad_request"),
            (LinkRequest { password: Some(String::new()), ..link("/Docs") }, "bad_request"),
            (link("/"), "bad_request"),
            (link("/Nowhere"), "not_found"),
            (link("../x"), "invalid_name"),
        ] {
            let err = s.create_link(&olive, &req).await.expect_err("refused");
            assert_eq!(err.code.as_str(), code, "{req:?}: {err:?}");
        }
        // Unknown tokens, however odd, are not found.
        for token in ["x", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &"z".repeat(500)] {
            assert_eq!(env.code(&format!("/api/v1/public/{token}")).await.0, StatusCode::NOT_FOUND);
        }

        // Purged for good: the links go with the item.
        let before = s.links(&olive, None).await.expect("links").len();
        s.delete(&olive, "/Docs/a.txt").await.expect("trash");
        s.trash_purge(&olive, None).await.expect("purge");
        let after = s.links(&olive, None).await.expect("links");
        assert_eq!(after.len(), before - 2, "the limited and the expiring link to a.txt are gone");
        assert_eq!(env.code(&format!("/s/{}", limited.token)).await.0, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn only_the_owner_of_a_shared_folder_makes_links_and_a_link_ends_when_its_item_leaves() {
    for env in envs().await {
        let s = &env.service;
        let olive = caller(s, "olive").await;
        let eddie = caller(s, "eddie").await;
        put(s, &olive, "/Team/plan.txt", b"the plan", 1 << 20).await;
        s.share_folder(&olive, "/Team", "eddie", coffer_core::Role::Editor).await.expect("share");
        let err = s.create_link(&eddie, &link("/Team/plan.txt")).await.expect_err("an editor does not share");
        assert_eq!(err.code, coffer_core::ErrorCode::Forbidden);
        // Eddie links a file of his own, then moves it into olive's folder: it is no
        // longer his to share, so the link stops.
        put(s, &eddie, "/mine.txt", b"eddie's", 1 << 20).await;
        let his = s.create_link(&eddie, &link("/mine.txt")).await.expect("link");
        assert_eq!(env.get(&format!("/s/{}", his.token), &[]).await.0, StatusCode::OK);
        s.move_node(&eddie, "/mine.txt", "/Team/mine.txt").await.expect("move in");
        assert_eq!(env.code(&format!("/s/{}", his.token)).await.0, StatusCode::NOT_FOUND);
        // Olive's link to the shared folder works for anyone, under the folder's name.
        let team = s.create_link(&olive, &link("/Team")).await.expect("link");
        let (_, v) = env.json(&format!("/api/v1/public/{}/list", team.token)).await;
        assert_eq!(v["entries"].as_array().map(Vec::len), Some(2), "{v}");
        let (_, v) = env.json(&format!("/api/v1/public/{}", team.token)).await;
        assert_eq!(v["item"]["name"], "Team");
        let (_, h, _) = env.get(&format!("/api/v1/public/{}/zip", team.token), &[]).await;
        assert!(h["content-disposition"].to_str().expect("ascii").contains("filename=\"Team.zip\""));
        let listed = s.links(&olive, Some("/Team")).await.expect("links");
        assert_eq!(listed.iter().map(|l| l.id).collect::<Vec<_>>(), [team.id]);
        assert_eq!(listed[0].path.as_deref(), Some("/Team"));

        // A folder linked first and shared afterwards: the link still shows its contents.
        put(s, &olive, "/Later/a.txt", b"a", 1 << 20).await;
        let later = s.create_link(&olive, &link("/Later")).await.expect("link");
        s.share_folder(&olive, "/Later", "eddie", coffer_core::Role::Viewer).await.expect("share");
        let (_, v) = env.json(&format!("/api/v1/public/{}/list", later.token)).await;
        assert_eq!(v["entries"][0]["name"], "a.txt", "{v}");
        let (_, v) = env.json(&format!("/api/v1/public/{}", later.token)).await;
        assert_eq!(v["item"]["name"], "Later");
    }
}

/// A folder whose zip passes 4 GiB: a 4.0 GiB file (one repeated chunk, so cheap to
/// store) and a small file after it, whose header lies beyond the 32-bit offsets. The
/// archive streams through HTTP in bounded memory and Python's `zipfile` reads both
/// back with their CRCs. SQLite only: the engine plays no part here.
#[tokio::test]
async fn a_folder_zip_past_four_gib_is_zip64() {
    let env = envs().await.remove(0);
    let s = &env.service;
    let olive = caller(s, "olive").await;
    let piece = vec![0u8; 4 << 20];
    let pieces = 1025usize;
    let chunks: Vec<ChunkRef> =
        (0..pieces).map(|_| ChunkRef { hash: ChunkHash::of(&piece), size: piece.len() as u32 }).collect();
    let up = s.begin_upload(&olive, &chunks).await.expect("begin");
    let id = coffer_core::UploadId(up.upload_id);
    s.put_chunks(&olive, &id, vec![(ChunkHash::of(&piece), Bytes::from(piece.clone()))]).await.expect("put");
    let big = CommitFile {
        node_id: None,
        path: "/Huge/big.bin".into(),
        parent_rev: None,
        mtime: None,
        mode: Default::default(),
        chunks,
    };
    s.commit(&olive, Some(&id), vec![big], true).await.expect("commit").remove(0).expect("committed");
    put(s, &olive, "/Huge/z.txt", b"after the big one", 1 << 20).await;
    let link = s.create_link(&olive, &link("/Huge")).await.expect("link");

    let resp = env.http.get(format!("{}/s/{}", env.base, link.token)).send().await.expect("send");
    assert_eq!(resp.status(), StatusCode::OK);
    // Runs of zeros become holes: the archive is mostly the big file's zeros, and
    // there is no need to push gigabytes through the disk to read it back.
    let file = env.dir.path().join("huge.zip");
    let mut out = std::fs::File::create(&file).expect("create");
    let mut body = resp.bytes_stream();
    let mut total = 0u64;
    while let Some(piece) = futures::StreamExt::next(&mut body).await {
        let piece = piece.expect("body");
        total += piece.len() as u64;
        if piece.iter().all(|b| *b == 0) {
            std::io::Seek::seek(&mut out, std::io::SeekFrom::Current(piece.len() as i64)).expect("seek");
        } else {
            std::io::Write::write_all(&mut out, &piece).expect("write");
        }
    }
    out.set_len(total).expect("length");
    let size = (pieces as u64) * (4 << 20);
    assert!(total > size && size > u32::MAX as u64, "{total}");
    // Reading 4 GiB through `zipfile` takes a minute: the big entry's CRC is checked
    // against the CRC of its zeros instead; the small one is read (and checked) whole.
    let check = format!(
        "c = 0\nfor _ in range({pieces}): c = zlib.crc32(bytes({}), c)\nassert z.getinfo('Huge/big.bin').CRC == c",
        4 << 20
    );
    let (listing, data) = read_zip_with(&file, "Huge/z.txt", &check);
    let listing: HashMap<String, u64> = listing.into_iter().collect();
    assert_eq!(listing.get("Huge/big.bin"), Some(&size));
    assert_eq!(data, b"after the big one");
}
