//! The page's behaviour, natively: what each action does to the state and which requests it
//! sends, including the races a fast visitor causes.

use super::*;
use cf_protocol::{MorphFaceData, MorphProblem, MorphReply, MorphRequest};
use cf_shards::{Catalog, CatalogInfo, ThumbnailInfo, file_entry};

/// Items 0 (person A, a woman) and 1, 2 (person B, a well-known man).
fn test_catalog() -> Catalog {
    Catalog {
        names: vec!["A".into(), "B".into()],
        person_of_item: vec![0, 1, 1],
        thumbs: vec!["0000000000000000".into(); 3],
        genders: "FM".into(),
        well_known: vec![1],
    }
}

fn manifest() -> Rc<Manifest> {
    let json = r#"{"format":"celebrityfaces-index","format_version":2,"generator":"test",
        "pipeline_models":[],"networks":[]}"#;
    let mut manifest: Manifest = serde_json::from_str(json).unwrap();
    manifest.catalog = Some(CatalogInfo {
        dataset: "test".into(),
        people: 2,
        items: 3,
        file: file_entry("catalog.json", &test_catalog().encode()),
        thumbnails: ThumbnailInfo {
            base_url: "thumbnails/".into(),
            size: 112,
            portrait_size: Some(256),
        },
    });
    for name in ["mobilefacenet192", "faceplugin512"] {
        manifest.networks.push(
            serde_json::from_value(serde_json::json!({
                "name": name, "description": name, "dimension": 4, "items": 3, "storage": "i8",
                "forest": {"trees": 1, "leaf_size": 4, "seed": 1, "splits": 0, "leaves": 1},
                "search_k": 10, "blob_bytes": 0, "shards": [], "models": []
            }))
            .unwrap(),
        );
    }
    Rc::new(manifest)
}

fn face(x: f32) -> FaceRect {
    FaceRect {
        x1: x,
        y1: 10.0,
        x2: x + 40.0,
        y2: 50.0,
        quarter_turns: 0,
    }
}

fn sent(effects: &[Effect]) -> Vec<&Request> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send(request) => Some(request),
            _ => None,
        })
        .collect()
}

fn to_morph_worker(effects: &[Effect]) -> Vec<&MorphRequest> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Morph(request) => Some(request),
            _ => None,
        })
        .collect()
}

/// The index's manifest found, at time 0: the first network's load is asked for.
fn index_found(state: &mut State) -> Vec<Effect> {
    state.reduce(
        Action::IndexFound {
            manifest: manifest(),
            json: Rc::new("{}".into()),
        },
        0.0,
    )
}

/// A page whose index is found and whose first network is ready.
fn ready_page() -> State {
    let mut state = State::new(Lang::En);
    let effects = index_found(&mut state);
    assert!(matches!(
        sent(&effects)[..],
        [Request::Load { network, .. }] if network == "mobilefacenet192"
    ));
    state.reduce(Action::Reply(ready("mobilefacenet192")), 5.0);
    state
}

fn ready(network: &str) -> Reply {
    Reply::Ready {
        network: network.into(),
        items: 3,
        same_person: 0.4,
        times: LoadTimes::default(),
    }
}

fn new_photo(state: &mut State, url: &str, now: f64) -> Vec<Effect> {
    state.reduce(Action::NewPhoto { url: url.into() }, now)
}

fn photo_read(state: &mut State, url: &str, bytes: Vec<u8>, now: f64) -> Vec<Effect> {
    state.reduce(
        Action::PhotoRead {
            url: url.into(),
            bytes,
        },
        now,
    )
}

/// The worker's reply that `network` could not be loaded.
fn load_failed(state: &mut State, network: &str, problem: LoadProblem, now: f64) {
    state.reduce(
        Action::Reply(Reply::LoadFailed {
            network: network.into(),
            problem,
        }),
        now,
    );
}

/// Gives a photo; returns its id and the seq of the analysis.
fn give_photo(state: &mut State, url: &str, now: f64) -> (u32, u32) {
    assert_eq!(
        sent(&new_photo(state, url, now)),
        Vec::<&Request>::new(),
        "nothing is asked before the file is read"
    );
    let effects = photo_read(state, url, vec![1, 2, 3], now);
    match sent(&effects)[..] {
        [
            Request::Analyse {
                seq, photo, bytes, ..
            },
        ] => {
            assert_eq!(bytes, &vec![1, 2, 3]);
            (*photo, *seq)
        }
        ref other => panic!("{other:?}"),
    }
}

fn faces_reply(photo: u32, seq: u32, faces: Vec<FaceRect>, chosen: Option<usize>) -> Reply {
    Reply::Faces {
        seq,
        photo,
        width: 400,
        height: 300,
        faces,
        chosen,
        second_look: false,
        times: StageTimes::default(),
    }
}

fn matches_reply(photo: u32, seq: u32, face: FaceRect, item: u32) -> Reply {
    Reply::Matches {
        seq,
        photo,
        network: "mobilefacenet192".into(),
        face,
        crop: vec![0; 3],
        crop_side: 1,
        hits: vec![Hit {
            item,
            similarity: 0.5,
        }],
        filter: Filter {
            gender: Some(GenderChoice::Men),
            well_known_only: false,
        },
        woman: Some(0.1),
        times: StageTimes::default(),
    }
}

/// A ready page showing a photo whose two faces were found, the first chosen.
fn page_with_two_faces() -> (State, u32, u32) {
    let mut state = ready_page();
    let (photo, seq) = give_photo(&mut state, "blob:1", 0.0);
    let faces = vec![face(0.0), face(100.0)];
    state.reduce(Action::Reply(faces_reply(photo, seq, faces, Some(0))), 1.0);
    (state, photo, seq)
}

fn shown_item(state: &State) -> Option<u32> {
    Some(state.matches.as_ref()?.hits.first()?.item)
}

#[test]
fn a_photo_is_analysed_its_preselected_face_matched_and_the_time_kept() {
    let mut state = ready_page();
    let (photo, seq) = give_photo(&mut state, "blob:1", 100.0);
    assert!(state.photo.as_ref().unwrap().busy);
    state.reduce(
        Action::Reply(faces_reply(
            photo,
            seq,
            vec![face(0.0), face(100.0)],
            Some(1),
        )),
        120.0,
    );
    let shown = state.photo.as_ref().unwrap();
    assert_eq!(
        (shown.chosen, shown.size, shown.busy),
        (Some(1), Some((400, 300)), true)
    );
    state.reduce(
        Action::Reply(matches_reply(photo, seq, face(100.0), 7)),
        150.0,
    );
    assert_eq!(shown_item(&state), Some(7));
    let photo_state = state.photo.as_ref().unwrap();
    assert!(!photo_state.busy);
    assert_eq!(photo_state.asked, 100.0);
    assert_eq!(state.matches.as_ref().unwrap().received, 150.0);
}

#[test]
fn the_page_is_settled_once_a_network_is_ready_and_no_photo_waits_for_its_answer() {
    let mut state = State::new(Lang::En);
    index_found(&mut state);
    assert!(!state.settled(), "the first network is still loading");
    // A photo given while the network loads: asked at once, answered once it is ready.
    let (photo, seq) = give_photo(&mut state, "blob:1", 1.0);
    state.reduce(Action::Reply(ready("mobilefacenet192")), 5.0);
    assert!(
        !state.settled(),
        "ready, but the photo waits for its answer"
    );
    state.reduce(
        Action::Reply(faces_reply(photo, seq, vec![face(0.0)], Some(0))),
        6.0,
    );
    assert!(!state.settled(), "its faces are in, its matches are not");
    state.reduce(Action::Reply(matches_reply(photo, seq, face(0.0), 1)), 7.0);
    assert!(state.settled(), "the matches are shown");
    give_photo(&mut state, "blob:2", 8.0);
    assert!(!state.settled(), "the next photo waits");
}

#[test]
fn a_photo_is_shown_once_the_worker_reads_it_and_a_refused_one_never() {
    let mut state = ready_page();
    let (refused, refused_seq) = give_photo(&mut state, "blob:1", 0.0);
    assert!(!state.photo.as_ref().unwrap().readable);
    state.reduce(
        Action::Reply(Reply::PhotoFailed {
            seq: refused_seq,
            photo: refused,
            problem: PhotoProblem::TooLarge {
                detail: "20000 x 20000".into(),
            },
        }),
        1.0,
    );
    assert!(!state.photo.as_ref().unwrap().readable);

    let (read, read_seq) = give_photo(&mut state, "blob:2", 2.0);
    // The refused photo's late word does not show the new one.
    state.reduce(
        Action::Reply(Reply::Readable {
            seq: refused_seq,
            photo: refused,
        }),
        3.0,
    );
    assert!(!state.photo.as_ref().unwrap().readable);
    state.reduce(
        Action::Reply(Reply::Readable {
            seq: read_seq,
            photo: read,
        }),
        4.0,
    );
    assert!(state.photo.as_ref().unwrap().readable);

    // A photo only the browser reads (HEIC in Safari) is shown with its faces.
    let (heic, heic_seq) = give_photo(&mut state, "blob:3", 5.0);
    state.reduce(
        Action::Reply(faces_reply(heic, heic_seq, vec![face(0.0)], Some(0))),
        6.0,
    );
    assert!(state.photo.as_ref().unwrap().readable);
}

#[test]
fn a_new_photo_lets_go_of_the_old_one_and_its_late_answers_and_reads_are_ignored() {
    let mut state = ready_page();
    let (first, first_seq) = give_photo(&mut state, "blob:1", 0.0);
    let effects = new_photo(&mut state, "blob:2", 10.0);
    assert!(effects.contains(&Effect::Revoke("blob:1".into())));
    let second = state.photo.as_ref().unwrap().id;
    assert_ne!(first, second);
    // The first photo's answers arrive after the second was given: none is shown.
    state.reduce(
        Action::Reply(faces_reply(first, first_seq, vec![face(0.0)], Some(0))),
        20.0,
    );
    state.reduce(
        Action::Reply(matches_reply(first, first_seq, face(0.0), 3)),
        21.0,
    );
    // (The soak, tests/browser/soak.test.mjs, caught one shown while the newer file was read.)
    assert_eq!(state.photo.as_ref().unwrap().size, None);
    assert_eq!(shown_item(&state), None);
    assert!(state.photo.as_ref().unwrap().busy);
    // A third photo is given before the second's bytes are read: the second's read is let go.
    new_photo(&mut state, "blob:3", 22.0);
    let late = photo_read(&mut state, "blob:2", vec![2], 23.0);
    assert_eq!(sent(&late), Vec::<&Request>::new());
    let read = photo_read(&mut state, "blob:3", vec![3], 24.0);
    let third = state.photo.as_ref().unwrap();
    assert!(matches!(
        sent(&read)[..],
        [Request::Analyse { photo, seq, bytes, .. }] if *photo == third.id && *seq == third.seq && bytes == &vec![3]
    ));
}

#[test]
fn only_the_answer_to_the_latest_box_is_shown() {
    let (mut state, photo, seq) = page_with_two_faces();
    // The visitor drags twice before the first match is back.
    let drag = |state: &mut State, x| match sent(&state.reduce(Action::SetBox(face(x)), 2.0))[..] {
        [
            Request::Match {
                seq,
                face: sent_face,
                ..
            },
        ] => {
            assert_eq!(*sent_face, face(x));
            *seq
        }
        ref other => panic!("{other:?}"),
    };
    let first_drag = drag(&mut state, 5.0);
    let second_drag = drag(&mut state, 9.0);
    assert!(second_drag > first_drag);
    state.reduce(Action::Reply(matches_reply(photo, seq, face(0.0), 1)), 3.0);
    state.reduce(
        Action::Reply(matches_reply(photo, first_drag, face(5.0), 2)),
        4.0,
    );
    assert_eq!(
        shown_item(&state),
        None,
        "answers to older boxes are not shown"
    );
    state.reduce(
        Action::Reply(matches_reply(photo, second_drag, face(9.0), 3)),
        5.0,
    );
    assert_eq!(shown_item(&state), Some(3));
    assert_eq!(state.chosen_face(), Some(face(9.0)));
}

#[test]
fn the_second_looks_faces_join_the_detected_ones_and_move_nothing_the_visitor_chose() {
    let (mut state, photo, seq) = page_with_two_faces();
    // Said to come, and the visitor draws a face and the page asks for it before they do.
    state.photo.as_mut().unwrap().every_face_found = false;
    state.reduce(Action::Draw(face(200.0)), 2.0);
    assert_eq!(state.photo.as_ref().unwrap().chosen, Some(2));
    let more = Reply::MoreFaces {
        seq,
        photo,
        faces: vec![face(300.0), face(400.0)],
        turned: vec![],
        detect_ms: 90.0,
    };
    let effects = state.reduce(Action::Reply(more.clone()), 3.0);
    assert!(sent(&effects).is_empty(), "nothing is asked again");
    let shown = state.photo.as_ref().unwrap();
    assert_eq!(
        shown.faces,
        [
            face(0.0),
            face(100.0),
            face(300.0),
            face(400.0),
            face(200.0)
        ],
        "detected faces, then the drawn one"
    );
    assert_eq!(
        (shown.drawn, shown.chosen),
        (1, Some(4)),
        "the drawn face stays chosen"
    );
    assert_eq!(state.chosen_face(), Some(face(200.0)));
    assert!(shown.every_face_found);
    assert_eq!(shown.second_look_ms, Some(90.0));

    // An older photo's faces are not added to a newer one.
    let (newer, newer_seq) = give_photo(&mut state, "blob:2", 4.0);
    state.reduce(
        Action::Reply(faces_reply(newer, newer_seq, vec![face(0.0)], Some(0))),
        5.0,
    );
    state.reduce(Action::Reply(more), 6.0);
    assert_eq!(state.photo.as_ref().unwrap().faces, [face(0.0)]);
}

#[test]
fn a_face_the_second_look_sees_upside_down_is_turned_and_matched_again() {
    let (mut state, photo, seq) = page_with_two_faces();
    let upside_down = |rect: FaceRect| FaceRect {
        y2: rect.y2 + 4.0,
        quarter_turns: 2,
        ..rect
    };
    let turned = |index: u32, was: FaceRect| TurnedFace {
        index,
        was,
        now: upside_down(was),
    };
    // Face 0, preselected and matched, lies upside down; face 1 too, but it is not chosen.
    let more = Reply::MoreFaces {
        seq,
        photo,
        faces: vec![],
        turned: vec![turned(0, face(0.0)), turned(1, face(100.0))],
        detect_ms: 90.0,
    };
    let effects = state.reduce(Action::Reply(more), 3.0);
    let shown = state.photo.as_ref().unwrap();
    assert_eq!(
        shown.faces,
        [upside_down(face(0.0)), upside_down(face(100.0))]
    );
    assert!(
        matches!(sent(&effects)[..], [Request::Match { face: f, .. }] if *f == upside_down(face(0.0))),
        "the chosen face is matched again, turned: {effects:?}"
    );
    assert!(shown.busy);

    // A face the visitor has moved since keeps the visitor's box, and is not asked again.
    let (mut state, photo, seq) = page_with_two_faces();
    let moved = face(5.0);
    state.reduce(Action::SetBox(moved), 2.0);
    let more = Reply::MoreFaces {
        seq,
        photo,
        faces: vec![],
        turned: vec![turned(0, face(0.0))],
        detect_ms: 90.0,
    };
    let effects = state.reduce(Action::Reply(more), 3.0);
    assert!(sent(&effects).is_empty(), "{effects:?}");
    assert_eq!(state.chosen_face(), Some(moved));
}

#[test]
fn choosing_drawing_and_a_network_switch_each_ask_for_a_match() {
    let (mut state, _, _) = page_with_two_faces();
    let effects = state.reduce(Action::Choose(1), 2.0);
    assert!(matches!(sent(&effects)[..], [Request::Match { face: f, .. }] if *f == face(100.0)));
    assert!(
        state.reduce(Action::Choose(5), 2.0).is_empty(),
        "no such face"
    );
    let effects = state.reduce(Action::Draw(face(200.0)), 3.0);
    assert!(matches!(sent(&effects)[..], [Request::Match { face: f, .. }] if *f == face(200.0)));
    let shown = state.photo.as_ref().unwrap();
    assert_eq!((shown.drawn, shown.chosen), (1, Some(2)));

    let effects = state.reduce(Action::ChooseNetwork("faceplugin512".into()), 4.0);
    assert!(
        matches!(sent(&effects)[..], [Request::Load { network, .. }] if network == "faceplugin512")
    );
    let effects = state.reduce(Action::Reply(ready("faceplugin512")), 5.0);
    assert!(
        matches!(sent(&effects)[..], [Request::Match { face: f, .. }] if *f == face(200.0)),
        "the chosen face again, in the new network: {effects:?}"
    );
    assert!(
        state
            .reduce(Action::ChooseNetwork("faceplugin512".into()), 6.0)
            .is_empty(),
        "already searched"
    );
}

#[test]
fn a_failed_first_load_is_an_index_problem_and_a_failed_second_one_a_network_problem() {
    let mut state = State::new(Lang::Ru);
    index_found(&mut state);
    let problem = LoadProblem::Http {
        file: "fr_detect.nnef.tar".into(),
        status: 404,
    };
    load_failed(&mut state, "mobilefacenet192", problem.clone(), 1.0);
    assert_eq!(state.index_problem, Some(problem.clone()));

    let mut state = ready_page();
    state.reduce(
        Action::Reply(Reply::Progress {
            network: "faceplugin512".into(),
            stage: LoadStage::Downloading,
            done: 5,
            total: 10,
        }),
        1.0,
    );
    assert_eq!(state.loading.as_ref().map(|l| l.done), Some(5));
    load_failed(&mut state, "faceplugin512", problem.clone(), 2.0);
    assert_eq!(
        (state.loading.as_ref(), state.index_problem.as_ref()),
        (None, None)
    );
    assert_eq!(
        state.network_problem,
        Some(("faceplugin512".into(), problem))
    );
    assert_eq!(state.network.as_deref(), Some("mobilefacenet192"));
}

#[test]
fn try_again_fetches_the_manifest_after_a_first_load_and_the_network_after_a_later_one() {
    let mut state = State::new(Lang::En);
    let damaged = LoadProblem::Damaged {
        file: "mobilefacenet192-000.bin".into(),
        detail: "sha256 differs".into(),
    };
    state.reduce(Action::IndexFailed(damaged.clone()), 0.0);
    assert_eq!(state.retryable(), Some(&damaged));
    let effects = state.reduce(Action::Retry, 1.0);
    assert_eq!(effects, vec![Effect::FetchIndex], "the manifest may be new");
    assert_eq!(
        state.index_problem, None,
        "the problem is gone while trying"
    );
    assert!(
        state.reduce(Action::Retry, 2.0).is_empty(),
        "nothing to try twice"
    );
    // The manifest comes back and the first network loads.
    let effects = state.reduce(
        Action::IndexFound {
            manifest: manifest(),
            json: Rc::new("{\"v\":2}".into()),
        },
        3.0,
    );
    assert!(
        matches!(&sent(&effects)[..], [Request::Load { network, .. }] if network == "mobilefacenet192")
    );

    // A second network that failed is loaded again with the manifest the page has.
    let mut state = ready_page();
    let http = LoadProblem::Http {
        file: "faceplugin512-001.bin".into(),
        status: 503,
    };
    load_failed(&mut state, "faceplugin512", http, 1.0);
    let effects = state.reduce(Action::Retry, 2.0);
    assert_eq!(
        sent(&effects),
        vec![&Request::Load {
            manifest: "{}".into(),
            network: "faceplugin512".into()
        }]
    );
    assert_eq!(state.network_problem, None);

    // A whole file the browser cannot use is not offered again: only a new build helps.
    let mut state = State::new(Lang::En);
    state.reduce(
        Action::IndexFailed(LoadProblem::Model {
            file: "fr_detect.nnef.tar".into(),
            detail: "unknown operator".into(),
        }),
        0.0,
    );
    assert_eq!(state.retryable(), None);
    assert!(state.reduce(Action::Retry, 1.0).is_empty());
}

#[test]
fn a_download_that_stands_still_is_said_to_be_stalled() {
    let mut state = ready_page();
    let progress = |done| {
        Action::Reply(Reply::Progress {
            network: "faceplugin512".into(),
            stage: LoadStage::Downloading,
            done,
            total: 100,
        })
    };
    state.reduce(progress(10), 1_000.0);
    let loading = state.loading.clone().unwrap();
    assert_eq!(
        loading.stalled_for(5_000.0),
        None,
        "four seconds is not stalled"
    );
    // The same count again is no movement.
    state.reduce(progress(10), 6_000.0);
    let loading = state.loading.clone().unwrap();
    assert_eq!(loading.stalled_for(10_000.0), Some(9));
    state.reduce(progress(11), 10_500.0);
    let loading = state.loading.clone().unwrap();
    assert_eq!(loading.stalled_for(11_000.0), None, "it moved");
    state.reduce(
        Action::Reply(Reply::Progress {
            network: "faceplugin512".into(),
            stage: LoadStage::Preparing,
            done: 100,
            total: 100,
        }),
        11_000.0,
    );
    let loading = state.loading.clone().unwrap();
    assert_eq!(
        loading.stalled_for(60_000.0),
        None,
        "preparing is not downloading"
    );
}

#[test]
fn a_photo_problem_is_kept_for_the_page_to_word() {
    let mut state = ready_page();
    let (photo, seq) = give_photo(&mut state, "blob:1", 0.0);
    state.reduce(
        Action::Reply(Reply::PhotoFailed {
            seq,
            photo,
            problem: PhotoProblem::Empty,
        }),
        1.0,
    );
    let shown = state.photo.as_ref().unwrap();
    assert_eq!(
        (shown.busy, shown.problem.clone()),
        (false, Some(PhotoProblem::Empty))
    );
}

#[test]
fn the_embed_message_names_the_top_five_people_and_never_the_photo() {
    let mut state = ready_page();
    state.reduce(
        Action::Reply(Reply::Catalog {
            json: test_catalog().encode(),
        }),
        0.0,
    );
    let (photo, seq) = give_photo(&mut state, "blob:1", 0.0);
    state.reduce(
        Action::Reply(faces_reply(photo, seq, vec![face(0.0)], Some(0))),
        1.0,
    );
    state.reduce(Action::Reply(matches_reply(photo, seq, face(0.0), 2)), 2.0);
    let message = state.embed_message().unwrap();
    assert_eq!(message["type"], "celebrityfaces:matches");
    assert_eq!(message["matches"][0]["name"], "B");
    assert_eq!(message["matches"][0]["similarity"], 0.5);
    assert_eq!(message["filter"]["gender"], "men");
    assert_eq!(message["filter"]["well_known_only"], false);
    let text = message.to_string();
    assert!(!text.contains("blob:") && !text.contains("crop"), "{text}");
}

#[test]
fn item_queries_take_only_the_latest_answer() {
    let mut state = ready_page();
    let first = match sent(&state.reduce(Action::QueryItem(1), 0.0))[..] {
        [Request::QueryItem { seq, item: 1 }] => *seq,
        ref other => panic!("{other:?}"),
    };
    state.reduce(Action::QueryItem(2), 0.0);
    state.reduce(
        Action::Reply(Reply::ItemHits {
            seq: first,
            item: 1,
            hits: Vec::new(),
            exact_overlap: 0,
            search_ms: 0.1,
        }),
        1.0,
    );
    assert_eq!(state.item_answer, None);
}

#[test]
fn the_catalog_comes_from_the_worker_and_a_damaged_one_is_an_index_problem() {
    let mut state = ready_page();
    state.reduce(
        Action::Reply(Reply::Catalog {
            json: test_catalog().encode(),
        }),
        0.0,
    );
    let people = state.people.as_ref().expect("people known");
    assert_eq!(people.name_of(2), Some("B"));
    let mut damaged = test_catalog().encode();
    damaged[3] ^= 1;
    let mut state = ready_page();
    state.reduce(Action::Reply(Reply::Catalog { json: damaged }), 0.0);
    assert!(matches!(
        state.index_problem,
        Some(LoadProblem::Index { .. })
    ));
}

#[test]
fn the_gender_chips_search_again_without_the_networks_and_each_face_gets_its_preset() {
    let (mut state, photo, seq) = page_with_two_faces();
    let effects = state.reduce(Action::Reply(matches_reply(photo, seq, face(0.0), 1)), 2.0);
    assert!(effects.is_empty());
    assert_eq!(
        state.matches.as_ref().unwrap().filter.gender,
        Some(GenderChoice::Men),
        "the worker's preset is what the chips show"
    );
    // One click: a search with the chosen gender, for the same photo, no box.
    let effects = state.reduce(Action::ChooseGender(GenderChoice::Everyone), 3.0);
    let refilter_seq = match sent(&effects)[..] {
        [
            Request::Refilter {
                seq: refilter_seq,
                photo: p,
                filter,
            },
        ] => {
            assert_eq!(*p, photo);
            assert_eq!(filter.gender, Some(GenderChoice::Everyone));
            *refilter_seq
        }
        ref other => panic!("{other:?}"),
    };
    assert!(refilter_seq > seq);
    // The chosen gender stays while the box moves, and goes with another face.
    let effects = state.reduce(Action::SetBox(face(3.0)), 4.0);
    assert!(
        matches!(sent(&effects)[..], [Request::Match { filter, .. }] if filter.gender == Some(GenderChoice::Everyone))
    );
    let effects = state.reduce(Action::Choose(1), 5.0);
    assert!(
        matches!(sent(&effects)[..], [Request::Match { filter, .. }] if filter.gender.is_none())
    );
    // Well known only keeps the gender shown (the preset, here) and asks again.
    let latest = state.photo.as_ref().unwrap().seq;
    state.reduce(
        Action::Reply(matches_reply(photo, latest, face(100.0), 2)),
        6.0,
    );
    let effects = state.reduce(Action::WellKnownOnly(true), 7.0);
    assert!(matches!(
        sent(&effects)[..],
        [Request::Refilter { filter, .. }] if *filter == Filter { gender: Some(GenderChoice::Men), well_known_only: true }
    ));
    // A new photo: its own preset, the well-known choice kept.
    new_photo(&mut state, "blob:2", 8.0);
    let effects = photo_read(&mut state, "blob:2", vec![1], 8.0);
    assert!(matches!(
        sent(&effects)[..],
        [Request::Analyse { filter, .. }] if *filter == Filter { gender: None, well_known_only: true }
    ));
}

fn morph_face_data() -> MorphFaceData {
    MorphFaceData {
        side: 2,
        rgb: vec![0; 12],
        landmarks: vec![(1.0, 1.0); 68],
    }
}

/// The page of two faces with its catalog in, and a morph with item 1 asked; its seq.
fn page_morphing() -> (State, u32, u32) {
    let (mut state, photo, _) = page_with_two_faces();
    let catalog = Reply::Catalog {
        json: test_catalog().encode(),
    };
    state.reduce(Action::Reply(catalog), 2.0);
    let effects = state.reduce(Action::Morph(MorphAction::Open(1)), 3.0);
    let seq = match sent(&effects)[..] {
        [
            Request::Morph {
                seq,
                photo: asked,
                face: asked_face,
                item: 1,
                portrait,
            },
        ] => {
            assert_eq!((*asked, *asked_face), (photo, face(0.0)));
            assert_eq!(portrait, "thumbnails/0000000000000000-256.jpg");
            *seq
        }
        ref other => panic!("{other:?}"),
    };
    (state, photo, seq)
}

#[test]
fn a_morph_gets_its_faces_then_frames_one_at_a_time_and_saves_its_gif() {
    let (mut state, photo, seq) = page_morphing();
    let morph = |state: &State| state.morph.clone().unwrap();
    assert_eq!(morph(&state).stage, MorphStage::Preparing);
    assert_eq!(morph(&state).t, MORPH_START);
    // The slider moved before the faces came: only recorded.
    assert!(
        state
            .reduce(Action::Morph(MorphAction::Blend(0.2)), 4.0)
            .is_empty()
    );
    let faces = |seq| Reply::MorphFaces {
        seq,
        photo,
        item: 1,
        from: morph_face_data(),
        to: morph_face_data(),
        ms: 30.0,
    };
    // Another morph's faces are not this one's.
    assert!(state.reduce(Action::Reply(faces(seq + 7)), 5.0).is_empty());
    let effects = state.reduce(Action::Reply(faces(seq)), 5.0);
    match to_morph_worker(&effects)[..] {
        [
            MorphRequest::Faces { seq: a, .. },
            MorphRequest::Frame { seq: b, t },
        ] => {
            assert_eq!((*a, *b, *t), (seq, seq, 0.2))
        }
        ref other => panic!("{other:?}"),
    }
    assert_eq!(morph(&state).stage, MorphStage::Ready);
    // Dragging on while that frame is made asks nothing; its arrival asks the last position.
    for t in [0.4, 0.6] {
        let effects = state.reduce(Action::Morph(MorphAction::Blend(t)), 6.0);
        assert!(to_morph_worker(&effects).is_empty());
    }
    let frame = |seq, t| {
        Action::Morph(MorphAction::Reply(MorphReply::Frame {
            seq,
            t,
            side: 2,
            rgba: vec![9; 16],
            ms: 4.0,
        }))
    };
    assert!(state.reduce(frame(seq + 7, 0.9), 7.0).is_empty());
    assert_eq!(morph(&state).frame, None);
    let effects = state.reduce(frame(seq, 0.2), 7.0);
    assert_eq!(
        to_morph_worker(&effects),
        [&MorphRequest::Frame { seq, t: 0.6 }]
    );
    assert_eq!(
        (morph(&state).frame_t, morph(&state).frame.map(|f| f.len())),
        (0.2, Some(16))
    );
    assert!(to_morph_worker(&state.reduce(frame(seq, 0.6), 8.0)).is_empty());
    // The GIF: asked once, whatever the clicks, and offered as a file when made.
    let effects = state.reduce(Action::Morph(MorphAction::SaveGif), 9.0);
    assert_eq!(to_morph_worker(&effects), [&MorphRequest::Gif { seq }]);
    assert!(
        state
            .reduce(Action::Morph(MorphAction::SaveGif), 9.5)
            .is_empty()
    );
    let gif = MorphReply::Gif {
        seq,
        bytes: b"GIF89a".to_vec(),
        ms: 800.0,
    };
    let effects = state.reduce(Action::Morph(MorphAction::Reply(gif)), 10.0);
    match &effects[..] {
        [Effect::Save { name, mime, bytes }] => {
            assert_eq!((name.as_str(), *mime), ("morph-B.gif", "image/gif"));
            assert_eq!(bytes.as_slice(), b"GIF89a");
        }
        other => panic!("{other:?}"),
    }
    assert!(!morph(&state).making_gif);
    // A new photo closes the morph; late frames of it are dropped.
    give_photo(&mut state, "blob:2", 11.0);
    assert_eq!(state.morph, None);
    assert!(state.reduce(frame(seq, 0.3), 12.0).is_empty());
}

#[test]
fn a_morph_that_cannot_be_made_says_why_and_closing_forgets_it() {
    let (mut state, photo, seq) = page_morphing();
    let failed = Reply::MorphFailed {
        seq,
        item: 1,
        problem: MorphProblem::NoFaceInPortrait {
            detail: "no face".into(),
        },
    };
    state.reduce(Action::Reply(failed.clone()), 4.0);
    assert_eq!(
        state.morph.as_ref().unwrap().stage,
        MorphStage::Failed(MorphProblem::NoFaceInPortrait {
            detail: "no face".into()
        })
    );
    assert!(
        state
            .reduce(Action::Morph(MorphAction::SaveGif), 5.0)
            .is_empty()
    );
    state.reduce(Action::Morph(MorphAction::Close), 6.0);
    assert_eq!(state.morph, None);
    // Its late answer opens nothing.
    let faces = Reply::MorphFaces {
        seq,
        photo,
        item: 1,
        from: morph_face_data(),
        to: morph_face_data(),
        ms: 30.0,
    };
    assert!(state.reduce(Action::Reply(faces), 7.0).is_empty());
    assert_eq!(state.morph, None);
    // An index built before portraits: the morph says so without asking the worker.
    if let Some(people) = &mut state.people {
        people.thumbnails.portrait_size = None;
    }
    let effects = state.reduce(Action::Morph(MorphAction::Open(1)), 8.0);
    assert!(sent(&effects).is_empty());
    assert_eq!(
        state.morph.as_ref().unwrap().stage,
        MorphStage::Failed(MorphProblem::NoPortraits)
    );
}
