//! The web app's doors over real HTTP, on every engine: browser sign-in with an HttpOnly
//! cookie and its CSRF token, what a cookie may and may not do, the app's page and its
//! Content-Security-Policy, previews that never run user content, and zips of a
//! signed-in user's selection.

use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use serde_json::{Value, json};

mod support;

use support::{Env, caller, envs, put, read_zip};

/// A browser of `env`: signs in through `POST /api/v1/session` and keeps the cookie by
/// hand (as a browser would), so each request shows exactly what it sends.
struct Browser<'a> {
    env: &'a Env,
    cookie: String,
    csrf: String,
}

impl<'a> Browser<'a> {
    async fn sign_in(env: &'a Env, user: &str, password: &str) -> Browser<'a> {
        let resp = env
            .http
            .post(format!("{}/api/v1/session", env.base))
            .header(header::USER_AGENT, "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36")
            .json(&json!({"user": user, "password": password}))
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), StatusCode::OK);
        let set = resp.headers().get(header::SET_COOKIE).expect("a cookie").to_str().expect("ascii").to_owned();
        for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(set.contains(attr), "{attr} in {set}");
        }
        let cookie = set.split(';').next().expect("pair").to_owned();
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body["user"]["name"], user);
        let csrf = body["csrf"].as_str().expect("csrf").to_owned();
        assert!(!cookie.contains(&csrf), "the CSRF token is not the session token");
        Browser { env, cookie, csrf }
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.env.http.request(method, format!("{}{path}", self.env.base)).header(header::COOKIE, &self.cookie)
    }

    async fn send(&self, r: reqwest::RequestBuilder) -> (StatusCode, HeaderMap, Value) {
        let resp = r.send().await.expect("send");
        let (status, headers) = (resp.status(), resp.headers().clone());
        let body = resp.bytes().await.expect("body");
        (status, headers, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn a_browser_signs_in_with_a_cookie_and_every_change_needs_its_csrf_token() {
    for env in envs().await {
        let s = &env.service;
        let (status, v) = env.json("/api/v1/setup").await;
        assert_eq!((status, v["needed"].as_bool()), (StatusCode::OK, Some(true)));
        let alice = caller(s, "alice").await;
        assert_eq!(env.json("/api/v1/setup").await.1["needed"], false);

        // Wrong passwords are refused like the CLI's sign-in, with no cookie.
        let resp = env
            .http
            .post(format!("{}/api/v1/session", env.base))
            .json(&json!({"user": "alice", "password": "wrong password"}))
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert!(resp.headers().get(header::SET_COOKIE).is_none());

        let b = Browser::sign_in(&env, "alice", "a long password").await;
        // The page finds its session (and CSRF token) again after a reload.
        let (status, _, v) = b.send(b.req(reqwest::Method::GET, "/api/v1/session")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(v["csrf"], b.csrf.as_str());
        assert_eq!(b.send(b.req(reqwest::Method::GET, "/api/v1/session")).await.1[header::CACHE_CONTROL], "no-store");

        // Reads need only the cookie.
        let (status, _, v) = b.send(b.req(reqwest::Method::GET, "/api/v1/auth/whoami")).await;
        assert_eq!((status, v["name"].as_str()), (StatusCode::OK, Some("alice")));

        // A change without the CSRF token, or with a wrong one, is refused and does nothing.
        let mkdir = |csrf: Option<&str>| {
            let r = b.req(reqwest::Method::POST, "/api/v1/fs/mkdir").json(&json!({"path": "/Made"}));
            match csrf {
                Some(t) => r.header("x-coffer-csrf", t),
                None => r,
            }
        };
        for bad in [None, Some("0000"), Some("")] {
            let (status, _, v) = b.send(mkdir(bad)).await;
            assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("csrf_failed")), "{bad:?}");
        }
        assert!(s.stat(&alice, "/Made").await.is_err(), "nothing was made");
        // Another site's page cannot use the cookie, even with a token it somehow had.
        let (status, _, v) = b.send(mkdir(Some(&b.csrf)).header(header::ORIGIN, "https://evil.example")).await;
        assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("csrf_failed")));
        let (status, _, v) = b
            .send(b.req(reqwest::Method::GET, "/api/v1/auth/whoami").header(header::ORIGIN, "http://evil.example"))
            .await;
        assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("csrf_failed")));
        // Signing in from another site's page is refused too.
        let resp = env
            .http
            .post(format!("{}/api/v1/session", env.base))
            .header(header::ORIGIN, "https://evil.example")
            .json(&json!({"user": "alice", "password": "a long password"}))
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        // The app's own origin with the token works.
        let origin = env.base.clone();
        let (status, _, v) = b.send(mkdir(Some(&b.csrf)).header(header::ORIGIN, origin)).await;
        assert_eq!((status, v["path"].as_str()), (StatusCode::OK, Some("/Made")));

        // The session is listed with the devices, as a browser, and can be revoked there.
        let (_, _, devices) = b.send(b.req(reqwest::Method::GET, "/api/v1/devices")).await;
        let me = devices.as_array().expect("list").iter().find(|d| d["current"] == true).expect("current").clone();
        assert_eq!(me["kind"], "browser");
        assert_eq!(me["name"], "Chrome on Linux");
        let devices = s.list_devices(&alice).await.expect("devices");
        assert!(devices.iter().any(|d| d.kind == coffer_core::wire::DeviceKind::Device));

        // A client's bearer token put in a cookie is not a session.
        let login = s.login("alice", "a long password", "cli", None).await.expect("login");
        let (status, _, _) = b
            .send(
                env.http
                    .get(format!("{}/api/v1/auth/whoami", env.base))
                    .header(header::COOKIE, format!("coffer_session={}", login.token)),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        // Signing out needs the token, revokes the session and clears the cookie.
        let (status, _, _) = b.send(b.req(reqwest::Method::DELETE, "/api/v1/session")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let resp = b.req(reqwest::Method::DELETE, "/api/v1/session").header("x-coffer-csrf", &b.csrf).send().await;
        let resp = resp.expect("send");
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        let cleared = resp.headers()[header::SET_COOKIE].to_str().expect("ascii").to_owned();
        assert!(cleared.starts_with("coffer_session=;") && cleared.contains("Max-Age=0"), "{cleared}");
        let (status, _, _) = b.send(b.req(reqwest::Method::GET, "/api/v1/auth/whoami")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn the_app_page_has_a_strict_policy_and_previews_never_run_user_content() {
    for env in envs().await {
        let s = &env.service;
        // The app's page, at its root and at any route the app handles.
        for path in ["/", "/files/Docs/a%20b", "/trash", "/s/sometoken"] {
            let accept: &[(&str, &str)] = &[("accept", "text/html,application/xhtml+xml")];
            let (status, h, body) = env.get(path, accept).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert!(h[header::CONTENT_TYPE].to_str().expect("ascii").starts_with("text/html"), "{path}");
            let csp = h[header::CONTENT_SECURITY_POLICY].to_str().expect("ascii");
            assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
            assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
            assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            let html = String::from_utf8_lossy(&body);
            assert!(html.contains("<div id=\"app\">") || html.contains("web app"), "{html}");
            assert!(!html.contains("<script>"), "no inline script: {html}");
        }
        // Unknown API endpoints stay JSON errors; unknown built assets are 404.
        assert_eq!(env.code("/api/v1/nope").await, (StatusCode::NOT_FOUND, "not_found".into()));
        assert_eq!(env.get("/assets/old-build.js", &[]).await.0, StatusCode::NOT_FOUND);
        // A link's address for curl is still the bytes (and an unknown link is 404).
        assert_eq!(env.get("/s/sometoken", &[("accept", "*/*")]).await.0, StatusCode::NOT_FOUND);

        let bob = caller(s, "bob").await;
        put(s, &bob, "/pic.png", b"\x89PNG\r\n\x1a\nnot really", 1 << 20).await;
        put(s, &bob, "/page.html", b"<script>alert(1)</script>", 1 << 20).await;
        put(s, &bob, "/draw.svg", b"<svg onload='alert(1)'/>", 1 << 20).await;
        put(s, &bob, "/doc.pdf", b"%PDF-1.4", 1 << 20).await;
        let b = Browser::sign_in(&env, "bob", "a long password").await;
        let head = |path: &str| b.send(b.req(reqwest::Method::GET, path));
        // A download is always an attachment of bytes.
        let (_, h, _) = head("/api/v1/fs/content?path=/page.html").await;
        assert_eq!(h[header::CONTENT_TYPE], "application/octet-stream");
        assert!(h[header::CONTENT_DISPOSITION].to_str().expect("ascii").starts_with("attachment;"));
        // A preview of an image is shown, in a sandbox that runs nothing.
        let (_, h, _) = head("/api/v1/fs/content?path=/pic.png&inline=true").await;
        assert_eq!(h[header::CONTENT_TYPE], "image/png");
        assert!(h[header::CONTENT_DISPOSITION].to_str().expect("ascii").starts_with("inline;"));
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().expect("ascii");
        assert!(csp.starts_with("sandbox;") && csp.contains("default-src 'none'"), "{csp}");
        // HTML and SVG shown inline are text, never a page or a drawing that runs script.
        for path in ["/page.html", "/draw.svg"] {
            let (_, h, _) = head(&format!("/api/v1/fs/content?path={path}&inline=true")).await;
            assert_eq!(h[header::CONTENT_TYPE], "text/plain; charset=utf-8", "{path}");
            assert!(h[header::CONTENT_SECURITY_POLICY].to_str().expect("ascii").starts_with("sandbox;"));
        }
        let (_, h, _) = head("/api/v1/fs/content?path=/doc.pdf&inline=true").await;
        assert_eq!(h[header::CONTENT_TYPE], "application/pdf");
        // Another user's file is not found through the browser either.
        caller(s, "carol").await;
        let c = Browser::sign_in(&env, "carol", "a long password").await;
        let (status, _, _) = c.send(c.req(reqwest::Method::GET, "/api/v1/fs/content?path=/pic.png")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn a_selection_downloads_as_one_zip_with_shared_folders_inside() {
    for env in envs().await {
        let s = &env.service;
        let dana = caller(s, "dana").await;
        let erin = caller(s, "erin").await;
        put(s, &dana, "/Docs/a.txt", b"alpha", 1 << 20).await;
        put(s, &dana, "/Docs/sub/b.txt", b"beta", 1 << 20).await;
        put(s, &dana, "/notes.md", b"# notes", 1 << 20).await;
        put(s, &dana, "/Other/a.txt", b"not selected", 1 << 20).await;
        put(s, &erin, "/Team/plan.txt", b"shared plan", 1 << 20).await;
        s.share_folder(&erin, "/Team", "dana", coffer_core::Role::Viewer).await.expect("share");
        s.move_node(&dana, "/Team", "/Docs/Team").await.expect("move mount");

        let b = Browser::sign_in(&env, "dana", "a long password").await;
        let resp = b.req(reqwest::Method::GET, "/api/v1/fs/zip?path=/Docs&path=/notes.md").send().await.expect("send");
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()[header::CONTENT_TYPE], "application/zip");
        let file = env.dir.path().join("sel.zip");
        std::fs::write(&file, resp.bytes().await.expect("body")).expect("write");
        let (listing, data) = read_zip(&file, "Docs/Team/plan.txt");
        let names: Vec<&str> = listing.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["Docs/", "Docs/Team/", "Docs/Team/plan.txt", "Docs/a.txt", "Docs/sub/", "Docs/sub/b.txt", "notes.md"]
        );
        assert_eq!(data, b"shared plan");

        // Two items of one name, a path that is not there, another user's path, and no
        // path at all are refused before anything is sent.
        for (q, code) in [
            ("path=/Docs/a.txt&path=/Other/a.txt", "already_exists"),
            ("path=/missing", "not_found"),
            ("", "bad_request"),
        ] {
            let (_, _, v) = b.send(b.req(reqwest::Method::GET, &format!("/api/v1/fs/zip?{q}"))).await;
            assert_eq!(v["error"]["code"], code, "{q}");
        }
        let e = Browser::sign_in(&env, "erin", "a long password").await;
        let (status, _, _) = e.send(e.req(reqwest::Method::GET, "/api/v1/fs/zip?path=/Docs")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn thumbnails_are_made_once_per_content_and_cached_by_the_browser() {
    for env in envs().await {
        let s = &env.service;
        let fay = caller(s, "fay").await;
        let mut png = Vec::new();
        image::DynamicImage::from(image::RgbImage::from_fn(800, 600, |x, y| image::Rgb([x as u8, y as u8, 7])))
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .expect("encode");
        put(s, &fay, "/photo.png", &png, 1 << 20).await;
        put(s, &fay, "/notes.txt", b"not an image", 1 << 20).await;
        let b = Browser::sign_in(&env, "fay", "a long password").await;
        let resp = b.req(reqwest::Method::GET, "/api/v1/fs/thumbnail?path=/photo.png&size=200").send().await;
        let resp = resp.expect("send");
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()[header::CONTENT_TYPE], "image/jpeg");
        let etag = resp.headers()[header::ETAG].to_str().expect("ascii").to_owned();
        let t = image::load_from_memory(&resp.bytes().await.expect("body")).expect("a JPEG");
        assert_eq!((t.width(), t.height()), (256, 192), "rounded up to 256, shape kept");
        let again = b
            .req(reqwest::Method::GET, "/api/v1/fs/thumbnail?path=/photo.png&size=256")
            .header(header::IF_NONE_MATCH, &etag)
            .send()
            .await
            .expect("send");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        let (status, _, v) = b.send(b.req(reqwest::Method::GET, "/api/v1/fs/thumbnail?path=/notes.txt")).await;
        assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("no_thumbnail")));
        caller(s, "gus").await;
        let g = Browser::sign_in(&env, "gus", "a long password").await;
        let (status, _, _) = g.send(g.req(reqwest::Method::GET, "/api/v1/fs/thumbnail?path=/photo.png")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}
