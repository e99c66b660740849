//! The index's manifest, as the page reads it: parsed, then each network's shards decoded from
//! files of the lengths it lists (the download checks each file's length and checksum, not
//! what the manifest says of the whole).
#![no_main]

use cf_shards::{decode_network, file_url, parse_manifest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(manifest) = parse_manifest(bytes) else {
        return;
    };
    for network in &manifest.networks {
        let _ = network.shard_bytes();
        for shard in &network.shards {
            let _ = file_url("index-shards/", shard);
        }
        let empty: Vec<&[u8]> = network.shards.iter().map(|_| &[][..]).collect();
        let _ = decode_network(network, &empty);
    }
    if let Some(catalog) = &manifest.catalog {
        let _ = catalog.thumbnails.portrait_file("0123456789abcdef");
    }
});
