//! ListAndWatch streams: a reader that went away ends its stream (no task left behind), a slow
//! reader never holds up the plugin and gets the latest list, and stopping ends every stream.

use std::sync::Arc;
use std::time::Duration;

use device_plugin::api::v1beta1 as pb;
use device_plugin::api::v1beta1::device_plugin_server::DevicePluginServer;
use device_plugin::service::{DevicePluginService, StreamCount};
use device_plugin::{Device, DevicePlugin, Health, stop, uds};
use tokio::sync::watch;
use tonic::Status;

const WAIT: Duration = Duration::from_secs(20);

struct Listed {
    devices: watch::Receiver<Vec<Device>>,
}

impl DevicePlugin for Listed {
    fn devices(&self) -> watch::Receiver<Vec<Device>> {
        self.devices.clone()
    }

    async fn allocate(
        &self,
        _request: pb::AllocateRequest,
    ) -> Result<pb::AllocateResponse, Status> {
        Err(Status::unimplemented("not in this test"))
    }
}

fn list(n: usize) -> Vec<Device> {
    (0..n)
        .map(|i| Device::new(format!("d{i}"), Health::Healthy, None))
        .collect()
}

async fn wait_count(count: &StreamCount, n: usize) {
    let mut rx = count.subscribe();
    tokio::time::timeout(WAIT, rx.wait_for(|c| *c == n))
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn streams_end_with_their_reader_and_with_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.sock");
    let (tx, rx) = watch::channel(list(1));
    let (trigger, signal) = stop::channel();
    let count = StreamCount::default();
    let service = DevicePluginService::new(
        Arc::new(Listed { devices: rx }),
        "example.com/x",
        signal.clone(),
        count.clone(),
    );
    let incoming = uds::bind(&path).unwrap();
    let server = tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(DevicePluginServer::new(service))
            .serve_with_incoming_shutdown(incoming, async move { signal.stopped().await })
            .await
    });
    let mut client =
        pb::device_plugin_client::DevicePluginClient::new(uds::connect(&path).await.unwrap());

    // a reader that goes away: its stream's task ends though nothing changes
    let mut s = client
        .list_and_watch(pb::Empty {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(s.message().await.unwrap().unwrap().devices.len(), 1);
    wait_count(&count, 1).await;
    drop(s);
    wait_count(&count, 0).await;

    // a reader that does not read: the sender is never held up, and the next read is the
    // latest list (changes in between coalesce)
    let mut slow = client
        .list_and_watch(pb::Empty {})
        .await
        .unwrap()
        .into_inner();
    wait_count(&count, 1).await;
    for n in 2..=1000 {
        tx.send_replace(list(n));
    }
    let mut last = 0;
    while last != 1000 {
        last = tokio::time::timeout(WAIT, slow.message())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
            .devices
            .len();
    }

    // 50 readers, then the server stops: every stream ends and the server returns
    let mut readers = Vec::new();
    for _ in 0..50 {
        readers.push(
            client
                .list_and_watch(pb::Empty {})
                .await
                .unwrap()
                .into_inner(),
        );
    }
    wait_count(&count, 51).await;
    trigger.stop();
    wait_count(&count, 0).await;
    tokio::time::timeout(WAIT, server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    for mut r in readers {
        // what was sent, then the end
        while let Ok(Some(_)) = r.message().await {}
    }
}
