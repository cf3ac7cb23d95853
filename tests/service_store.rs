//! Narrations kept on S3 (the `s3` feature) against moto's S3 server from the test venv on
//! loopback: `aloud serve --store s3://...` narrates, the files land in the bucket under
//! `ID/NAME` (listed by moto's own S3 API through boto3), the API serves them from there
//! whole and by byte ranges, byte-identical to `aloud narrate`, and nothing is left in the
//! worker's local working directory.
#![cfg(feature = "s3")]

mod common;

use common::service::{Client, narrate_alone, serve_with_env, voices_dir};
use common::{Ready, Server, free_port, venv_python};
use serde_json::json;
use std::time::Duration;

#[test]
fn narrations_are_stored_in_s3_and_served_from_there() {
    let Some(python) = venv_python("moto.server, boto3") else {
        common::skip_or_fail("the test venv has no moto (run scripts/test)");
        return;
    };
    if common::joe_model_or_skip().is_none() {
        return;
    }
    let moto = Server::start(
        &python,
        |command, port, _dir| {
            command.args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ]);
        },
        Ready::Listening,
    );
    let endpoint = format!("http://127.0.0.1:{}", moto.port);
    let boto = |code: &str| {
        let output = std::process::Command::new(&python)
            .args(["-c", code, &endpoint])
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .output()
            .expect("python runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).to_string()
    };
    let client_code = "import boto3, sys\ns3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1')\n";
    boto(&format!(
        "{client_code}s3.create_bucket(Bucket='narrations')"
    ));

    let dir = tempfile::tempdir().expect("a temp dir");
    let voices = voices_dir(dir.path(), &[]);
    let out = dir.path().join("work");
    let store = format!("s3://narrations/newsroom?endpoint={endpoint}&region=us-east-1");
    let port = free_port();
    // The store's keys come from the environment (moto takes any; the client signs with them).
    let _server = serve_with_env(
        &voices,
        port,
        &[
            "--out-dir",
            &out.display().to_string(),
            "--store",
            &store,
            "--workers",
            "1",
            "--no-cache",
        ],
        &[
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
        ],
        dir.path().join("serve.log"),
    );
    let client = Client { port, token: None };
    let article = "# Tides\n\nThe sea rises and falls twice a day.\n";
    let r = client.submit(
        &json!({"markdown": article, "voice": "joe-deterministic", "options": {"name": "tides"}}),
        &[],
    );
    assert_eq!(r.status, 202, "{r:?}");
    let id = r.json()["id"].as_str().expect("an id").to_string();
    let state = client.wait_ended(&id, Duration::from_secs(180));
    assert_eq!(
        state["status"],
        "done",
        "{state}\n{}",
        std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default()
    );

    let listed = boto(&format!(
        "{client_code}print('\\n'.join(sorted(o['Key'] for o in s3.list_objects_v2(Bucket='narrations')['Contents'])))"
    ));
    let keys: Vec<&str> = listed.lines().collect();
    for name in ["tides.wav", "tides.timeline.json", "tides.vtt"] {
        assert!(
            keys.contains(&format!("newsroom/{id}/{name}").as_str()),
            "{name} not in {keys:?}"
        );
    }
    let input = dir.path().join("tides.md");
    std::fs::write(&input, article).expect("input");
    let alone = dir.path().join("alone.wav");
    narrate_alone(&voices, &input, &alone, "joe-deterministic");
    let expected = std::fs::read(&alone).expect("the lone narration");
    let whole = client.get(&format!("/v1/narrations/{id}/audio"));
    assert_eq!(whole.status, 200);
    assert!(
        whole.body == expected,
        "the stored WAV differs from aloud narrate's"
    );
    let part = client.send(
        "GET",
        &format!("/v1/narrations/{id}/audio"),
        &[("Range", "bytes=44-143")],
        None,
    );
    assert_eq!(part.status, 206);
    assert_eq!(part.body, expected[44..144]);
    assert_eq!(
        client.get(&format!("/v1/narrations/{id}/player")).status,
        501
    );
    let work_left: Vec<_> = std::fs::read_dir(out.join(".aloud-work"))
        .map(|entries| entries.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(work_left.is_empty(), "working files left: {work_left:?}");
    assert!(
        !out.join(&id).exists(),
        "the narration was also kept locally"
    );
}
