//! Hostile pickles against the unpickler itself: names refused, nesting,
//! cycles and shared-reference blow-ups bounded, lengths checked.

use super::unpickle;
use crate::pth::PyValue;

fn read(data: &[u8]) -> Result<PyValue, String> {
    let mut no_storages = |_: &str, _, _, _: &str| Err("no storages here".to_string());
    unpickle(data, &mut no_storages).map(|(v, _)| v)
}

fn refused(data: &[u8], name: &str) {
    let err = read(data).unwrap_err();
    assert!(err.contains(&format!("GLOBAL {name}")), "{err}");
}

#[test]
fn system_and_code_names_are_refused_by_name() {
    refused(
        b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R.",
        "os.system",
    );
    refused(b"\x80\x02cposix\nsystem\n.", "posix.system");
    refused(b"\x80\x02c__builtin__\ngetattr\n.", "builtins.getattr");
    refused(b"\x80\x02cbuiltins\nexec\n.", "builtins.exec");
    // A class-like name is inert, but calling it is refused by name.
    refused(b"\x80\x02csubprocess\nPopen\n)R.", "subprocess.Popen");
    refused(b"\x80\x02cmymodels\nNet\n)R.", "mymodels.Net");
    // STACK_GLOBAL (protocol 4) is checked the same way.
    refused(b"\x80\x04\x8c\x02os\x8c\x06system\x93.", "os.system");
}

#[test]
fn a_module_class_becomes_an_inert_object() {
    let v = read(b"\x80\x02c__main__\nNet\n)\x81}X\x01\x00\x00\x00aK\x01sb.").unwrap();
    let PyValue::Object { class, state, .. } = v else {
        panic!("{v:?}")
    };
    assert_eq!(class, "__main__.Net");
    assert_eq!(state.unwrap().get("a").and_then(PyValue::as_int), Some(1));
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let n = 200_000;
    let mut data = vec![0x80, 2];
    data.extend(std::iter::repeat_n(b']', n));
    data.extend(std::iter::repeat_n(b'a', n - 1));
    data.push(b'.');
    let err = read(&data).unwrap_err();
    assert!(err.contains("nested deeper"), "{err}");
}

#[test]
fn a_list_containing_itself_is_an_error() {
    let err = read(b"\x80\x02]q\x00h\x00a.").unwrap_err();
    assert!(err.contains("cycle"), "{err}");
}

#[test]
fn shared_references_cannot_expand_without_bound() {
    // l0 = ["x"]; l(k+1) = [lk] * 10, 12 times: 10^12 leaves once expanded.
    let mut data = b"\x80\x02]X\x01\x00\x00\x00xaq\x00".to_vec();
    for k in 0..12u8 {
        data.extend([b']', b'(']);
        data.extend([b'h', k].repeat(10));
        data.extend([b'e', b'q', k + 1]);
    }
    data.push(b'.');
    let err = read(&data).unwrap_err();
    assert!(err.contains("too many values"), "{err}");
}

#[test]
fn declared_lengths_past_the_end_are_errors() {
    for data in [
        &b"\x80\x02X\xff\xff\xff\xff"[..],
        b"\x80\x02\x8d\xff\xff\xff\xff\xff\xff\xff\x7f",
        b"\x80\x02B\x00\x00\x00\x80ab",
        b"\x80\x02\x8b\xff\xff\xff\x7f",
    ] {
        let err = read(data).unwrap_err();
        assert!(
            err.contains("truncated") || err.contains("too large"),
            "{err}"
        );
    }
}

#[test]
fn memo_indices_and_marks_are_checked() {
    assert!(read(b"\x80\x02h\x05.")
        .unwrap_err()
        .contains("never stored"));
    assert!(read(b"\x80\x02r\xff\xff\xff\xff.")
        .unwrap_err()
        .contains("underflow"));
    assert!(read(b"\x80\x02t.").unwrap_err().contains("MARK"));
}

#[test]
fn storages_must_be_torch_storage_ids() {
    let err = read(b"\x80\x02X\x01\x00\x00\x00xQ.").unwrap_err();
    assert!(err.contains("persistent id"), "{err}");
    let err = read(b"\x80\x02(X\x07\x00\x00\x00storagecos\nsystem\n").unwrap_err();
    assert!(err.contains("GLOBAL os.system"), "{err}");
}
