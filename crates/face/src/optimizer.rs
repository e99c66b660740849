//! tract's graph optimiser (its own passes, in its own order), with the patches applied without a
//! scan that changes nothing. tract 0.23.9's `ModelPatch::apply` compares each node a patch adds
//! with every node of the model (`dyn_eq` and the inputs), then adds the node whatever it found:
//! the `continue` in that loop only moves on to the next candidate, and the mapping it wrote is
//! overwritten by the added node's. So every patch costs one `dyn_eq` per model node per new
//! node, for nothing: natively a third of the detector and landmark network's preparation (30 ->
//! 20 ms) and a fifth of MobileFaceNet's (32 -> 25 ms), in the browser more, where a first visit
//! runs it in V8's baseline tier. [`optimize`] and [`declutter`] run the passes as
//! `TypedModel::optimize` and `TypedModel::declutter` do, and [`apply`] is `ModelPatch::apply`
//! without the scan; a test (`packed::tests`) holds the models they prepare to tract's, node for
//! node and output for output, bit for bit.

use std::collections::{BTreeMap, HashMap, HashSet};

use tract_nnef::internal::tract_core::model::typed::{STAGE_OPTIMIZED, TRACT_STAGE};
use tract_nnef::internal::tract_core::optim::Optimizer;
use tract_nnef::internal::{
    InletId, Node, OutletId, SpecialOps, TractResult, TypedModel, TypedModelPatch, rctensor0,
};

/// What `TypedModel::optimize` does (tract's code generation passes), with [`apply`].
pub fn optimize(model: &mut TypedModel) -> TractResult<()> {
    run(&Optimizer::codegen(), model)?;
    model.properties.insert(
        TRACT_STAGE.to_string(),
        rctensor0(STAGE_OPTIMIZED.to_string()),
    );
    Ok(())
}

/// What `TypedModel::declutter` does (tract's simplification passes), with [`apply`].
pub fn declutter(model: &mut TypedModel) -> TractResult<()> {
    run(&Optimizer::declutter(), model)
}

/// `optimizer`'s passes until none changes the model, as tract's `OptimizerSession::optimize`
/// runs them: each pass until it proposes nothing more, the whole set again while any changed
/// the model, the graph compacted between them.
pub fn run(optimizer: &Optimizer, model: &mut TypedModel) -> TractResult<()> {
    let _proofs = model.symbols.proof_cache_session();
    let mut session = optimizer.session();
    let mut applied = 0usize;
    let mut seen = HashSet::new();
    model.compact()?;
    model.check_names()?;
    loop {
        let before_round = applied;
        for pass in optimizer.passes.clone().iter_mut() {
            loop {
                let before_pass = applied;
                pass.reset()?;
                while let Some(patch) = pass.next(&mut session, model)? {
                    // tract's guard against two passes undoing each other forever.
                    if let Some(watchdog) = &patch.dont_apply_twice
                        && !seen.insert(watchdog.clone())
                    {
                        continue;
                    }
                    apply(patch, model)?;
                    applied += 1;
                }
                pass.run_direct(model)?;
                if applied == before_pass {
                    break;
                }
                model.compact()?;
            }
            model.compact()?;
        }
        if applied == before_round {
            return Ok(());
        }
        model.compact()?;
    }
}

/// `ModelPatch::apply` of tract 0.23.9, without its scan of the model for a node equal to each
/// one added (see the module's words). New nodes are named in the order of their ids, one of
/// the orders tract's `HashSet` walks them in.
///
/// Its steps are functions of their own (`#[inline(never)]`): together, with tract's graph
/// methods inlined into them, they made a 14 KB wasm function that V8 optimised twice in a
/// first visit, 130 ms of a background core (`--trace-wasm-compilation-times`).
pub fn apply(patch: TypedModelPatch, target: &mut TypedModel) -> TractResult<()> {
    let TypedModelPatch {
        model: patch_model,
        taps: mut mapping,
        shunts,
        obliterate,
        inputs: replaced_inputs,
        ..
    } = patch;
    let added = add_nodes(patch_model, &mut mapping, &replaced_inputs, target)?;
    let mut shunts: Vec<_> = shunts.into_iter().collect();
    shunts.sort();
    reroute(&shunts, &mapping, target)?;
    wire_added(&added, &mapping, target)?;
    for node in obliterate {
        target.node_mut(node).op = target.create_dummy();
    }
    remove_unused(
        target,
        shunts.iter().map(|(outlet, _)| outlet.node).collect(),
    )?;
    name_added(added.keys().copied(), target);
    Ok(())
}

/// The patch's nodes added to the model (its taps, which stand for wires of the model, are
/// not), each added node's inputs as the patch names them, by the node's id in the model.
/// `mapping` learns where each patch outlet now is; a source of the patch replaces an input.
#[inline(never)]
fn add_nodes(
    patch_model: TypedModel,
    mapping: &mut HashMap<OutletId, OutletId>,
    replaced_inputs: &HashMap<usize, usize>,
    target: &mut TypedModel,
) -> TractResult<BTreeMap<usize, Vec<OutletId>>> {
    let mut added = BTreeMap::new();
    let mut model_input_outlets = target.input_outlets()?.to_vec();
    for node in patch_model.nodes {
        if <TypedModel as SpecialOps<_, _>>::is_source(&node.op)
            && mapping.contains_key(&OutletId::new(node.id, 0))
        {
            continue;
        }
        let Node {
            id: patch_node_id,
            name,
            inputs,
            op,
            outputs,
        } = node;
        let n_outputs = outputs.len();
        let facts = outputs.into_iter().map(|outlet| outlet.fact).collect();
        let added_id = target.add_node(name, op, facts)?;
        for slot in 0..n_outputs {
            mapping.insert(
                OutletId::new(patch_node_id, slot),
                OutletId::new(added_id, slot),
            );
        }
        added.insert(added_id, inputs);
        if <TypedModel as SpecialOps<_, _>>::is_source(&target.node(added_id).op) {
            for outlet in &mut model_input_outlets {
                if outlet.node == replaced_inputs[&patch_node_id] {
                    outlet.node = added_id;
                }
            }
        }
    }
    target.set_input_outlets(&model_input_outlets)?;
    Ok(added)
}

/// Each wire the patch replaces: its successors and the model's outputs and labels moved to
/// the patch's wire.
#[inline(never)]
fn reroute(
    shunts: &[(OutletId, OutletId)],
    mapping: &HashMap<OutletId, OutletId>,
    target: &mut TypedModel,
) -> TractResult<()> {
    for &(outlet, by) in shunts {
        let replace_by = mapping[&by];
        let successors = target.nodes[outlet.node].outputs[outlet.slot]
            .successors
            .clone();
        for successor in successors {
            target.add_edge(replace_by, successor)?;
        }
        for output in &mut target.outputs {
            if *output == outlet {
                *output = replace_by;
            }
        }
        if let Some(label) = target.outlet_labels.remove(&outlet) {
            target.set_outlet_label(replace_by, label)?;
        }
    }
    Ok(())
}

/// The added nodes' inputs, wired in the order of their ids.
#[inline(never)]
fn wire_added(
    added: &BTreeMap<usize, Vec<OutletId>>,
    mapping: &HashMap<OutletId, OutletId>,
    target: &mut TypedModel,
) -> TractResult<()> {
    for (&node, inputs) in added {
        for (slot, input) in inputs.iter().enumerate() {
            target.add_edge(mapping[input], InletId::new(node, slot))?;
        }
    }
    Ok(())
}

/// An added node whose name another node has, or which tract marked for renaming (`#`), named
/// anew as tract names it.
#[inline(never)]
fn name_added(added: impl Iterator<Item = usize>, target: &mut TypedModel) {
    for node in added {
        if let Some((prefix, _)) = target.nodes[node].name.split_once('#') {
            target.nodes[node].name = target.unique_name(prefix).into();
        } else if target
            .nodes
            .iter()
            .any(|other| other.id != node && other.name == target.nodes[node].name)
        {
            target.nodes[node].name = target.unique_name(&target.nodes[node].name).to_string();
        }
    }
}

/// The nodes a patch cut off (and those only they fed), made dummies as tract's `apply` makes
/// them, for `compact` to drop.
#[inline(never)]
fn remove_unused(target: &mut TypedModel, mut maybe_unused: HashSet<usize>) -> TractResult<()> {
    while let Some(&maybe) = maybe_unused.iter().next() {
        maybe_unused.remove(&maybe);
        if !target.outputs.iter().any(|output| output.node == maybe)
            && !target.inputs.iter().any(|input| input.node == maybe)
            && target
                .node(maybe)
                .outputs
                .iter()
                .all(|outlet| outlet.successors.is_empty())
        {
            target.node_mut(maybe).op = target.create_dummy();
            target.node_mut(maybe).name = format!("Dummy-node-{maybe}");
            target.node_mut(maybe).outputs.clear();
            let inputs = std::mem::take(&mut target.node_mut(maybe).inputs);
            for &input in &inputs {
                target.node_mut(input.node).outputs[input.slot]
                    .successors
                    .retain(|successor| successor.node != maybe);
                maybe_unused.insert(input.node);
            }
            target.check_edges()?;
        }
    }
    Ok(())
}
