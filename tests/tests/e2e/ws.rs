//! `/graphql/ws`: graphql-transport-ws with a real websocket client —
//! authentication at `connection_init` (token or cookie), the protocol's close
//! codes, and the socket closing when its session ends.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::db_test;
use crate::helpers::{TestApp, PASSWORD};

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn connect(app: &TestApp, cookie: Option<&str>) -> Socket {
    connect_to(&app.base, cookie).await
}

/// A socket to the server at `base` (http://host:port).
pub async fn connect_to(base: &str, cookie: Option<&str>) -> Socket {
    let url = format!("{}/graphql/ws", base.replace("http://", "ws://"));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    if let Some(c) = cookie {
        request.headers_mut().insert("cookie", c.parse().unwrap());
    }
    let (socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "graphql-transport-ws"
    );
    socket
}

pub async fn send(socket: &mut Socket, value: Value) {
    socket.send(Message::text(value.to_string())).await.unwrap();
}

/// The next protocol message, or the close code.
pub async fn next(socket: &mut Socket) -> Result<Value, u16> {
    let wait = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next());
    match wait.await.expect("the server answered in time") {
        Some(Ok(Message::Text(t))) => Ok(serde_json::from_str(t.as_str()).unwrap()),
        Some(Ok(Message::Close(Some(frame)))) => Err(frame.code.into()),
        other => panic!("unexpected {other:?}"),
    }
}

pub async fn init(socket: &mut Socket, token: Option<&str>) -> Result<Value, u16> {
    let payload = token.map_or(json!({}), |t| json!({ "token": t }));
    send(
        socket,
        json!({ "type": "connection_init", "payload": payload }),
    )
    .await;
    next(socket).await
}

db_test! {
    async fn a_socket_authenticates_at_init_and_closes_when_its_session_ends(app: &TestApp) {
        let token = app.admin.token.clone().unwrap();
        let mut ws = connect(app, None).await;
        assert_eq!(init(&mut ws, Some(&token)).await.unwrap()["type"], "connection_ack");
        send(&mut ws, json!({ "type": "ping" })).await;
        assert_eq!(next(&mut ws).await.unwrap()["type"], "pong");
        send(&mut ws, json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ me { email } }" } })).await;
        let result = next(&mut ws).await.unwrap();
        assert_eq!(result["type"], "next");
        assert_eq!(result["payload"]["data"]["me"]["email"], "admin@example.org");
        assert_eq!(next(&mut ws).await.unwrap()["type"], "complete");

        // The same user's session cookie works too; logging out closes the socket.
        let other = app.anonymous().login("admin@example.org", PASSWORD).await;
        let cookie = format!("kvartal_session={}", other.token.clone().unwrap());
        let mut by_cookie = connect(app, Some(&cookie)).await;
        assert_eq!(init(&mut by_cookie, None).await.unwrap()["type"], "connection_ack");
        other.ok("mutation { logout { ok } }", json!({})).await;
        assert_eq!(next(&mut by_cookie).await, Err(4403), "the logged-out session's socket closes");
        // The first socket's session still holds.
        send(&mut ws, json!({ "type": "ping" })).await;
        assert_eq!(next(&mut ws).await.unwrap()["type"], "pong");
        app.ok("mutation { logoutEverywhere { ended } }", json!({})).await;
        assert_eq!(next(&mut ws).await, Err(4403));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handshake_follows_the_protocol_s_close_codes() {
    let app =
        crate::helpers::spawn_app_with(crate::helpers::Db::Sqlite, |s| s.ws_init_timeout_secs = 1)
            .await;
    let token = app.admin.token.clone().unwrap();

    let mut ws = connect(&app, None).await;
    assert_eq!(init(&mut ws, None).await, Err(4403), "no credentials");
    let mut ws = connect(&app, None).await;
    assert_eq!(
        init(&mut ws, Some("not-a-session")).await,
        Err(4403),
        "an unknown token"
    );

    let mut ws = connect(&app, None).await;
    send(
        &mut ws,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ me { email } }" } }),
    )
    .await;
    assert_eq!(next(&mut ws).await, Err(4401), "subscribe before the ack");

    let mut ws = connect(&app, None).await;
    init(&mut ws, Some(&token)).await.unwrap();
    send(
        &mut ws,
        json!({ "type": "connection_init", "payload": { "token": token } }),
    )
    .await;
    assert_eq!(next(&mut ws).await, Err(4429), "a second init");

    let mut ws = connect(&app, None).await;
    init(&mut ws, Some(&token)).await.unwrap();
    send(&mut ws, json!({ "type": "no_such_thing" })).await;
    assert_eq!(next(&mut ws).await, Err(4400), "an unknown message");

    let mut ws = connect(&app, None).await;
    assert_eq!(next(&mut ws).await, Err(4408), "no init in time");
    app.cleanup().await;
}
