//! A packed model's graph as its NNEF syntax tree in binary (`graph.bin` in the tar), so that
//! loading it reads the tree instead of parsing NNEF text. tract's NNEF parser spent about
//! 120 ms of a first visit's start in the browser on the three graphs a photo needs (natively
//! 18.5 ms for MobileFaceNet's 133 KB of text; reading the same tree from this form takes a
//! hundredth of that). The tree is tract's own (`tract_nnef::ast::Document`), so what tract
//! builds from it is what it builds from the text.
//!
//! Layout (every integer little-endian; docs/FORMAT.md, "Packed models"):
//! - the magic `CFGRAPH1`;
//! - the strings: a `u32` count, then each as a `u32` byte length and its UTF-8 bytes;
//! - the document, field by field in declaration order: a string is the `u32` index of one of
//!   the strings above, a list a `u32` count and its elements, an option a byte 0 or 1 and the
//!   value, an enum a byte naming the variant (in declaration order) and its fields, a boolean a
//!   byte 0 or 1.
//!
//! Reading is safe for any bytes: a count larger than the bytes left, an index outside the
//! strings, an unknown variant or a tree nested deeper than [`MAX_DEPTH`] is refused with the
//! reason, never a panic or an allocation the bytes cannot back.

use std::collections::HashMap;

use tract_nnef::ast::{
    Argument, Assignment, Comprehension, Document, FragmentDecl, FragmentDef, GraphDef, Identifier,
    IfThenElse, Invocation, LValue, Literal, Parameter, RValue, Result_, Subscript, TypeName,
    TypeSpec,
};

/// The first bytes of a graph in this form; the digit is the layout's version.
pub const MAGIC: &[u8; 8] = b"CFGRAPH1";

/// The deepest nesting of expressions, literals and types read. The packed graphs nest 5 deep;
/// this bounds the reader's recursion, whatever the bytes.
pub const MAX_DEPTH: usize = 32;

/// The document in this form.
pub fn write(document: &Document) -> Vec<u8> {
    let mut writer = Writer::default();
    writer.document(document);
    let mut out = MAGIC.to_vec();
    put_u32(&mut out, writer.strings.len());
    for text in &writer.strings {
        put_u32(&mut out, text.len());
        out.extend_from_slice(text.as_bytes());
    }
    out.extend_from_slice(&writer.body);
    out
}

/// The document in `bytes`, or why they are not one.
pub fn read(bytes: &[u8]) -> Result<Document, String> {
    let rest = bytes
        .strip_prefix(MAGIC)
        .ok_or("does not start with CFGRAPH1, the mark of a packed graph")?;
    let mut reader = Reader {
        bytes: rest,
        strings: Vec::new(),
        depth: 0,
    };
    let count = reader.count()?;
    let mut strings = Vec::with_capacity(count);
    for _ in 0..count {
        let length = reader.count()?;
        let text = reader.take(length)?;
        strings.push(
            std::str::from_utf8(text)
                .map_err(|_| "a string is not UTF-8".to_string())?
                .to_string(),
        );
    }
    reader.strings = strings;
    let document = reader.document()?;
    if !reader.bytes.is_empty() {
        return Err(format!("{} bytes follow the document", reader.bytes.len()));
    }
    Ok(document)
}

fn put_u32(out: &mut Vec<u8>, value: usize) {
    let value = u32::try_from(value).expect("a packed graph counts under 2^32");
    out.extend_from_slice(&value.to_le_bytes());
}

#[derive(Default)]
struct Writer {
    strings: Vec<String>,
    indices: HashMap<String, usize>,
    body: Vec<u8>,
}

impl Writer {
    fn byte(&mut self, value: u8) {
        self.body.push(value);
    }

    fn count(&mut self, value: usize) {
        put_u32(&mut self.body, value);
    }

    fn string(&mut self, text: &str) {
        let index = match self.indices.get(text) {
            Some(&index) => index,
            None => {
                self.strings.push(text.to_string());
                self.indices
                    .insert(text.to_string(), self.strings.len() - 1);
                self.strings.len() - 1
            }
        };
        self.count(index);
    }

    fn list<T>(&mut self, items: &[T], mut item: impl FnMut(&mut Self, &T)) {
        self.count(items.len());
        for value in items {
            item(self, value);
        }
    }

    fn option<T>(&mut self, value: Option<&T>, item: impl FnOnce(&mut Self, &T)) {
        match value {
            None => self.byte(0),
            Some(value) => {
                self.byte(1);
                item(self, value);
            }
        }
    }

    fn document(&mut self, document: &Document) {
        self.string(&document.version);
        self.list(&document.extension, |w, (id, text)| {
            w.string(&id.0);
            w.string(text);
        });
        self.list(&document.fragments, Self::fragment);
        self.graph(&document.graph_def);
    }

    fn fragment(&mut self, fragment: &FragmentDef) {
        let decl = &fragment.decl;
        self.string(&decl.id.0);
        self.option(decl.generic_decl.as_ref(), |w, generic| {
            w.option(generic.as_ref(), |w, name| w.type_name(*name));
        });
        self.list(&decl.parameters, Self::parameter);
        self.list(&decl.results, |w, result| {
            w.string(&result.id.0);
            w.type_spec(&result.spec);
        });
        self.option(fragment.body.as_ref(), |w, body| {
            w.list(body, Self::assignment)
        });
    }

    fn parameter(&mut self, parameter: &Parameter) {
        self.string(&parameter.id.0);
        self.type_spec(&parameter.spec);
        self.option(parameter.lit.as_ref(), Self::literal);
        self.option(parameter.doc.as_ref(), |w, doc| w.string(doc));
    }

    fn type_name(&mut self, name: TypeName) {
        self.byte(match name {
            TypeName::Integer => 0,
            TypeName::Scalar => 1,
            TypeName::Logical => 2,
            TypeName::String => 3,
            TypeName::Any => 4,
        });
    }

    fn type_spec(&mut self, spec: &TypeSpec) {
        match spec {
            TypeSpec::Single(name) => {
                self.byte(0);
                self.type_name(*name);
            }
            TypeSpec::Tensor(name) => {
                self.byte(1);
                self.type_name(*name);
            }
            TypeSpec::Array(inner) => {
                self.byte(2);
                self.type_spec(inner);
            }
            TypeSpec::Tuple(items) => {
                self.byte(3);
                self.list(items, Self::type_spec);
            }
        }
    }

    fn graph(&mut self, graph: &GraphDef) {
        self.string(&graph.id.0);
        self.list(&graph.parameters, |w, id| w.string(&id.0));
        self.list(&graph.results, |w, id| w.string(&id.0));
        self.list(&graph.body, Self::assignment);
    }

    fn assignment(&mut self, assignment: &Assignment) {
        self.lvalue(&assignment.left);
        self.rvalue(&assignment.right);
    }

    fn lvalue(&mut self, value: &LValue) {
        match value {
            LValue::Identifier(id) => {
                self.byte(0);
                self.string(&id.0);
            }
            LValue::Array(items) => {
                self.byte(1);
                self.list(items, Self::lvalue);
            }
            LValue::Tuple(items) => {
                self.byte(2);
                self.list(items, Self::lvalue);
            }
        }
    }

    fn rvalue(&mut self, value: &RValue) {
        match value {
            RValue::Identifier(id) => {
                self.byte(0);
                self.string(&id.0);
            }
            RValue::Literal(literal) => {
                self.byte(1);
                self.literal(literal);
            }
            RValue::Binary(left, operator, right) => {
                self.byte(2);
                self.rvalue(left);
                self.string(operator);
                self.rvalue(right);
            }
            RValue::Unary(operator, operand) => {
                self.byte(3);
                self.string(operator);
                self.rvalue(operand);
            }
            RValue::Tuple(items) => {
                self.byte(4);
                self.list(items, Self::rvalue);
            }
            RValue::Array(items) => {
                self.byte(5);
                self.list(items, Self::rvalue);
            }
            RValue::Subscript(value, subscript) => {
                self.byte(6);
                self.rvalue(value);
                match &**subscript {
                    Subscript::Single(index) => {
                        self.byte(0);
                        self.rvalue(index);
                    }
                    Subscript::Range(start, end) => {
                        self.byte(1);
                        self.option(start.as_ref(), Self::rvalue);
                        self.option(end.as_ref(), Self::rvalue);
                    }
                }
            }
            RValue::Comprehension(comprehension) => {
                self.byte(7);
                self.list(&comprehension.loop_iters, |w, (id, over)| {
                    w.string(&id.0);
                    w.rvalue(over);
                });
                self.option(comprehension.filter.as_ref(), Self::rvalue);
                self.rvalue(&comprehension.yields);
            }
            RValue::IfThenElse(branches) => {
                self.byte(8);
                self.rvalue(&branches.cond);
                self.rvalue(&branches.then);
                self.rvalue(&branches.otherwise);
            }
            RValue::Invocation(invocation) => {
                self.byte(9);
                self.string(&invocation.id.0);
                self.option(invocation.generic_type_name.as_ref(), |w, name| {
                    w.type_name(*name)
                });
                self.list(&invocation.arguments, |w, argument| {
                    w.option(argument.id.as_ref(), |w, id| w.string(&id.0));
                    w.rvalue(&argument.rvalue);
                });
            }
        }
    }

    fn literal(&mut self, literal: &Literal) {
        match literal {
            Literal::Numeric(text) => {
                self.byte(0);
                self.string(text);
            }
            Literal::String(text) => {
                self.byte(1);
                self.string(text);
            }
            Literal::Logical(value) => {
                self.byte(2);
                self.byte(u8::from(*value));
            }
            Literal::Array(items) => {
                self.byte(3);
                self.list(items, Self::literal);
            }
            Literal::Tuple(items) => {
                self.byte(4);
                self.list(items, Self::literal);
            }
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    strings: Vec<String>,
    depth: usize,
}

type Read<T> = Result<T, String>;

impl<'a> Reader<'a> {
    fn take(&mut self, length: usize) -> Read<&'a [u8]> {
        if length > self.bytes.len() {
            return Err(format!(
                "ends early: {length} bytes wanted, {} left",
                self.bytes.len()
            ));
        }
        let (taken, rest) = self.bytes.split_at(length);
        self.bytes = rest;
        Ok(taken)
    }

    fn byte(&mut self) -> Read<u8> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Read<usize> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize)
    }

    /// A count of things each written in at least one byte: never more than the bytes left.
    fn count(&mut self) -> Read<usize> {
        let value = self.u32()?;
        if value > self.bytes.len() {
            return Err(format!(
                "counts {value}, more than the {} bytes left",
                self.bytes.len()
            ));
        }
        Ok(value)
    }

    fn string(&mut self) -> Read<String> {
        let index = self.u32()?;
        self.strings
            .get(index)
            .cloned()
            .ok_or_else(|| format!("names string {index} of {}", self.strings.len()))
    }

    fn identifier(&mut self) -> Read<Identifier> {
        self.string().map(Identifier)
    }

    fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> Read<T>) -> Read<Vec<T>> {
        let count = self.count()?;
        let mut items = Vec::with_capacity(count);
        for _ in 0..count {
            items.push(item(self)?);
        }
        Ok(items)
    }

    fn option<T>(&mut self, item: impl FnOnce(&mut Self) -> Read<T>) -> Read<Option<T>> {
        match self.byte()? {
            0 => Ok(None),
            1 => item(self).map(Some),
            other => Err(format!("an option is marked {other}, not 0 or 1")),
        }
    }

    fn boolean(&mut self) -> Read<bool> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(format!("a boolean is {other}, not 0 or 1")),
        }
    }

    /// `read` one level deeper, refused past [`MAX_DEPTH`].
    fn nested<T>(&mut self, read: impl FnOnce(&mut Self) -> Read<T>) -> Read<T> {
        if self.depth >= MAX_DEPTH {
            return Err(format!("nests deeper than {MAX_DEPTH} levels"));
        }
        self.depth += 1;
        let value = read(self);
        self.depth -= 1;
        value
    }

    fn unknown<T>(what: &str, tag: u8) -> Read<T> {
        Err(format!("{what} of unknown kind {tag}"))
    }

    fn document(&mut self) -> Read<Document> {
        Ok(Document {
            version: self.string()?,
            extension: self.list(|r| Ok((r.identifier()?, r.string()?)))?,
            fragments: self.list(Self::fragment)?,
            graph_def: self.graph()?,
        })
    }

    fn fragment(&mut self) -> Read<FragmentDef> {
        let decl = FragmentDecl {
            id: self.identifier()?,
            generic_decl: self.option(|r| r.option(Self::type_name))?,
            parameters: self.list(Self::parameter)?,
            results: self.list(|r| {
                Ok(Result_ {
                    id: r.identifier()?,
                    spec: r.type_spec()?,
                })
            })?,
        };
        let body = self.option(|r| r.list(Self::assignment))?;
        Ok(FragmentDef { decl, body })
    }

    fn parameter(&mut self) -> Read<Parameter> {
        Ok(Parameter {
            id: self.identifier()?,
            spec: self.type_spec()?,
            lit: self.option(Self::literal)?,
            doc: self.option(Self::string)?,
        })
    }

    fn type_name(&mut self) -> Read<TypeName> {
        match self.byte()? {
            0 => Ok(TypeName::Integer),
            1 => Ok(TypeName::Scalar),
            2 => Ok(TypeName::Logical),
            3 => Ok(TypeName::String),
            4 => Ok(TypeName::Any),
            tag => Self::unknown("a type name", tag),
        }
    }

    fn type_spec(&mut self) -> Read<TypeSpec> {
        self.nested(|r| match r.byte()? {
            0 => Ok(TypeSpec::Single(r.type_name()?)),
            1 => Ok(TypeSpec::Tensor(r.type_name()?)),
            2 => Ok(TypeSpec::Array(Box::new(r.type_spec()?))),
            3 => Ok(TypeSpec::Tuple(r.list(Self::type_spec)?)),
            tag => Self::unknown("a type", tag),
        })
    }

    fn graph(&mut self) -> Read<GraphDef> {
        Ok(GraphDef {
            id: self.identifier()?,
            parameters: self.list(Self::identifier)?,
            results: self.list(Self::identifier)?,
            body: self.list(Self::assignment)?,
        })
    }

    fn assignment(&mut self) -> Read<Assignment> {
        Ok(Assignment {
            left: self.lvalue()?,
            right: self.rvalue()?,
        })
    }

    fn lvalue(&mut self) -> Read<LValue> {
        self.nested(|r| match r.byte()? {
            0 => Ok(LValue::Identifier(r.identifier()?)),
            1 => Ok(LValue::Array(r.list(Self::lvalue)?)),
            2 => Ok(LValue::Tuple(r.list(Self::lvalue)?)),
            tag => Self::unknown("an assigned name", tag),
        })
    }

    fn rvalue(&mut self) -> Read<RValue> {
        self.nested(|r| match r.byte()? {
            0 => Ok(RValue::Identifier(r.identifier()?)),
            1 => Ok(RValue::Literal(r.literal()?)),
            2 => Ok(RValue::Binary(
                Box::new(r.rvalue()?),
                r.string()?,
                Box::new(r.rvalue()?),
            )),
            3 => Ok(RValue::Unary(r.string()?, Box::new(r.rvalue()?))),
            4 => Ok(RValue::Tuple(r.list(Self::rvalue)?)),
            5 => Ok(RValue::Array(r.list(Self::rvalue)?)),
            6 => {
                let value = r.rvalue()?;
                let subscript = match r.byte()? {
                    0 => Subscript::Single(r.rvalue()?),
                    1 => Subscript::Range(r.option(Self::rvalue)?, r.option(Self::rvalue)?),
                    tag => return Self::unknown("a subscript", tag),
                };
                Ok(RValue::Subscript(Box::new(value), Box::new(subscript)))
            }
            7 => Ok(RValue::Comprehension(Box::new(Comprehension {
                loop_iters: r.list(|r| Ok((r.identifier()?, r.rvalue()?)))?,
                filter: r.option(Self::rvalue)?,
                yields: r.rvalue()?,
            }))),
            8 => Ok(RValue::IfThenElse(Box::new(IfThenElse {
                cond: r.rvalue()?,
                then: r.rvalue()?,
                otherwise: r.rvalue()?,
            }))),
            9 => Ok(RValue::Invocation(Invocation {
                id: r.identifier()?,
                generic_type_name: r.option(Self::type_name)?,
                arguments: r.list(|r| {
                    Ok(Argument {
                        id: r.option(Self::identifier)?,
                        rvalue: r.rvalue()?,
                    })
                })?,
            })),
            tag => Self::unknown("an expression", tag),
        })
    }

    fn literal(&mut self) -> Read<Literal> {
        self.nested(|r| match r.byte()? {
            0 => Ok(Literal::Numeric(r.string()?)),
            1 => Ok(Literal::String(r.string()?)),
            2 => Ok(Literal::Logical(r.boolean()?)),
            3 => Ok(Literal::Array(r.list(Self::literal)?)),
            4 => Ok(Literal::Tuple(r.list(Self::literal)?)),
            tag => Self::unknown("a literal", tag),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every construct of NNEF's syntax the tree has: a fragment declared only, and one with a
    /// generic, defaults and a body; tuples and arrays on both sides; subscripts, ranges,
    /// a comprehension (with a filter, added), a conditional, unary and binary operators, named and
    /// positional arguments, every kind of literal.
    const EVERY_CONSTRUCT: &str = r#"
version 1.0;
extension tract_registry tract_core;

fragment declared(input: tensor<scalar>) -> (output: tensor<scalar>);

fragment pick<? = scalar>(
    input: tensor<?>,
    axes: integer[] = [0, 1],
    flag: logical = true,
    label: string = "a",
    pairs: (integer, scalar)[]
) -> ( output: tensor<?>, sizes: integer[] )
{
    sizes = [for i in axes yield i * 2];
    (a, b) = (input, sizes[1:]);
    [c] = [a];
    output = c[0] if !flag else -b[:2];
}

graph network(input) -> (output)
{
    input = external<scalar>(shape = [1, 3, 4, 4]);
    kernel = variable<scalar>(label = "kernel", shape = [3, 3, 1, 1]);
    conv = conv(input, kernel, 0.0, stride = [1, 1], border = "constant", groups = 1);
    output = add(conv, [[1.0e-3, -2]]);
}
"#;

    fn every_construct() -> Document {
        let mut document =
            tract_nnef::ast::parse::parse_document(EVERY_CONSTRUCT).expect("the sample parses");
        // A comprehension's filter, which tract's parser never gives but the tree may hold.
        let name = |text: &str| RValue::Identifier(Identifier(text.into()));
        // A parameter's documentation, which the parser leaves out too.
        document.fragments[1].decl.parameters[0].doc = Some("the tensor to pick from".into());
        document.graph_def.body.push(Assignment {
            left: LValue::Identifier(Identifier("positive".into())),
            right: RValue::Comprehension(Box::new(Comprehension {
                loop_iters: vec![(Identifier("i".into()), name("axes"))],
                filter: Some(RValue::Binary(
                    Box::new(name("i")),
                    ">".into(),
                    Box::new(RValue::Literal(Literal::Numeric("0".into()))),
                )),
                yields: name("i"),
            })),
        });
        document
    }

    #[test]
    fn every_construct_reads_back_as_written() {
        let document = every_construct();
        assert!(!document.fragments.is_empty() && !document.extension.is_empty());
        let bytes = write(&document);
        assert_eq!(read(&bytes).unwrap(), document);
        // Each string is stored once, however often the graph names it.
        let text = String::from_utf8_lossy(&bytes);
        assert_eq!(text.matches("kernel").count(), 1);
    }

    #[test]
    fn cut_or_damaged_bytes_are_refused_with_a_reason() {
        let bytes = write(&every_construct());
        for length in 0..bytes.len() {
            assert!(read(&bytes[..length]).is_err(), "cut at {length}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(read(&longer).unwrap_err(), "1 bytes follow the document");
        assert!(read(b"graph.nnef").unwrap_err().contains("CFGRAPH1"));
        // Any one byte changed: refused, or read as another document; never a panic.
        for position in MAGIC.len()..bytes.len() {
            let mut changed = bytes.clone();
            changed[position] ^= 0xA5;
            let _ = read(&changed);
        }
    }

    #[test]
    fn a_count_larger_than_the_bytes_left_is_refused_before_anything_is_allocated() {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        let error = read(&bytes).unwrap_err();
        assert!(error.contains("more than the 0 bytes left"), "{error}");
    }

    #[test]
    fn a_tree_nested_deeper_than_the_limit_is_refused() {
        let nested = |depth: usize| {
            let mut value = RValue::Identifier(Identifier("input".into()));
            for _ in 0..depth {
                value = RValue::Unary("-".into(), Box::new(value));
            }
            let mut document = every_construct();
            document.graph_def.body[3].right = value;
            document
        };
        // The assignment's value is one level, each operator one more.
        let deepest = nested(MAX_DEPTH - 1);
        assert_eq!(read(&write(&deepest)).unwrap(), deepest);
        let error = read(&write(&nested(MAX_DEPTH))).unwrap_err();
        assert_eq!(error, format!("nests deeper than {MAX_DEPTH} levels"));
    }
}
