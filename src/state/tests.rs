//! The page's behaviour, natively: what each action does to the state and which requests it
//! sends, including the races a fast visitor causes.

use super::*;
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
    }
}

fn sent(effects: &[Effect]) -> Vec<&Request> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send(request) => Some(request),
            Effect::Revoke(_) => None,
        })
        .collect()
}

/// A page whose index is found and whose first network is ready.
fn ready_page() -> State {
    let mut state = State::new(Lang::En);
    let effects = state.reduce(
        Action::IndexFound {
            manifest: manifest(),
            json: Rc::new("{}".into()),
        },
        0.0,
    );
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

/// Gives a photo; returns its id and the seq of the analysis.
fn give_photo(state: &mut State, url: &str, now: f64) -> (u32, u32) {
    let effects = state.reduce(
        Action::NewPhoto {
            url: url.into(),
            bytes: vec![1, 2, 3],
        },
        now,
    );
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
fn a_new_photo_lets_go_of_the_old_one_and_its_late_answers_are_ignored() {
    let mut state = ready_page();
    let (first, first_seq) = give_photo(&mut state, "blob:1", 0.0);
    let effects = state.reduce(
        Action::NewPhoto {
            url: "blob:2".into(),
            bytes: vec![9],
        },
        10.0,
    );
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
    assert_eq!(state.photo.as_ref().unwrap().size, None);
    assert_eq!(shown_item(&state), None);
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
    state.reduce(
        Action::IndexFound {
            manifest: manifest(),
            json: Rc::new("{}".into()),
        },
        0.0,
    );
    let problem = LoadProblem::Http {
        file: "fr_detect.nnef.tar".into(),
        status: 404,
    };
    state.reduce(
        Action::Reply(Reply::LoadFailed {
            network: "mobilefacenet192".into(),
            problem: problem.clone(),
        }),
        1.0,
    );
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
    state.reduce(
        Action::Reply(Reply::LoadFailed {
            network: "faceplugin512".into(),
            problem: problem.clone(),
        }),
        2.0,
    );
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
    let effects = state.reduce(
        Action::NewPhoto {
            url: "blob:2".into(),
            bytes: vec![1],
        },
        8.0,
    );
    assert!(matches!(
        sent(&effects)[..],
        [Request::Analyse { filter, .. }] if *filter == Filter { gender: None, well_known_only: true }
    ));
}
