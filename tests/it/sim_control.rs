//! The `/_sim/<vendor>/edit` and `/_sim/<vendor>/switches` control endpoints,
//! which every simulated vendor gets from one implementation.

use mspform::sim::{Inventory, SimOptions, Simulator};
use serde_json::{Value, json};

use crate::sim_http::{Resp, local};

async fn post(sim: &Simulator, path: &str, body: Value) -> Resp {
    let resp = reqwest::Client::new()
        .post(format!("{}/_sim/{path}", sim.url()))
        .json(&body)
        .send()
        .await
        .expect("control call");
    Resp::read(resp).await
}

#[tokio::test]
async fn every_vendor_answers_its_edits_and_switches_alike() {
    let sim = Simulator::start(SimOptions::new(local(), Inventory::embedded()))
        .await
        .expect("simulator starts");
    for vendor in ["aruba", "audiocodes", "extreme", "ruckus"] {
        let r = post(
            &sim,
            &format!("{vendor}/edit"),
            json!({"op": "no_such_edit"}),
        )
        .await;
        assert_eq!(r.status, 400, "{vendor}: {}", r.text);
        assert!(
            r.body["error"]
                .as_str()
                .is_some_and(|e| e.starts_with(&format!("invalid {vendor} edit:"))),
            "{vendor}: {}",
            r.text
        );
        let r = post(
            &sim,
            &format!("{vendor}/switches"),
            json!({"no_such_switch": 1}),
        )
        .await;
        assert_eq!(r.status, 400, "{vendor}: {}", r.text);
        assert_eq!(
            r.body["error"],
            format!("unknown {vendor} switch \"no_such_switch\""),
            "{vendor}"
        );
        let r = post(&sim, &format!("{vendor}/switches"), json!({})).await;
        assert_eq!(r.status, 200, "{vendor}: {}", r.text);
        assert_eq!(
            r.body,
            sim.dump()[vendor]["switches"],
            "{vendor}: the answer is the whole set of switches"
        );
    }
    // A switch change takes, and a value the vendor's own check refuses does not.
    let r = post(&sim, "extreme/switches", json!({"create_status": 200})).await;
    assert_eq!(r.body["create_status"], 200, "{}", r.text);
    let r = post(&sim, "extreme/switches", json!({"create_status": 99})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(sim.dump()["extreme"]["switches"]["create_status"], 200);
    // An edit that makes an object answers its id.
    let r = post(
        &sim,
        "audiocodes/edit",
        json!({"op": "create_customer", "short_name": "Portal1"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.body["id"].as_str().expect("an id").to_string();
    let customers = sim.dump()["audiocodes"]["customers"].clone();
    assert!(
        customers
            .as_array()
            .is_some_and(|cs| cs.iter().any(|c| c["id"] == id.as_str())),
        "{customers}"
    );
    let r = post(
        &sim,
        "ruckus/edit",
        json!({"op": "delete_ec", "tenant": "no-such-tenant"}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    sim.shutdown().await;
}
