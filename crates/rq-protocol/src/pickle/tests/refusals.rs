//! The security policy: globals and opcodes that would build or look up arbitrary objects are
//! refused.

use super::*;

#[test]
fn refuses_global_os_system() {
    let err = dec(b"cos\nsystem\n(S'echo hi'\ntR.").unwrap_err();
    assert_eq!(
        err,
        PickleError::RefusedGlobal {
            module: "os".into(),
            name: "system".into(),
            opcode: "GLOBAL",
            offset: 0
        }
    );
    let msg = err.to_string();
    assert!(
            msg.starts_with(
                "refused: pickle references Python global 'os.system' (GLOBAL); only plain data is accepted"
            ),
            "{msg}"
        );
}

#[test]
fn refuses_stack_global() {
    let err = dec(b"\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x93\x94\x8c\x02hi\x85R.").unwrap_err();
    assert!(
        matches!(&err, PickleError::RefusedGlobal { module, name, opcode: "STACK_GLOBAL", .. }
                if module == "os" && name == "system"),
        "{err}"
    );
    // datetime.datetime(2020, 1, 1) as CPython 3.11 pickles it at protocol 5.
    let err = dec(&unhex("8005952a000000000000008c086461746574696d65948c086461746574696d65949394430a07e4010100000000000094859452942e")).unwrap_err();
    assert!(
        err.to_string()
            .contains("'datetime.datetime' (STACK_GLOBAL)"),
        "{err}"
    );
}

#[test]
fn refuses_object_construction() {
    let cases: &[(&[u8], &str)] = &[
            // OrderedDict(a=1) at protocol 2
            (&unhex("800263636f6c6c656374696f6e730a4f726465726564446963740a71002952710158010000006171024b01732e"), "'collections.OrderedDict' (GLOBAL)"),
            // An instance of a class at protocol 1 goes through copy_reg._reconstructor.
            (b"ccopy_reg\n_reconstructor\nq\x00(c__main__\nC\nq\x01c__builtin__\nobject\nq\x02Ntq\x03Rq\x04.", "'copy_reg._reconstructor' (GLOBAL)"),
            (b"ccopyreg\n_reconstructor\n.", "'copyreg._reconstructor'"),
            (b"(i__main__\nC\n.", "'__main__.C' (INST)"),
            (b"\x80\x02cbuiltins\nset\n)\x81.", "NEWOBJ"),
            (b"\x80\x04cbuiltins\nset\n)}\x92.", "NEWOBJ_EX"),
            (b"(cbuiltins\nset\no.", "OBJ"),
            (b"]}b.", "BUILD"),
            (b"Pid\n.", "PERSID"),
            (b"NQ.", "BINPERSID"),
            (b"\x80\x02\x82\x01.", "EXT1"),
            (b"\x80\x02\x83\x01\x00.", "EXT2"),
            (b"\x80\x02\x84\x01\x00\x00\x00.", "EXT4"),
            (&unhex("8005972e"), "NEXT_BUFFER"),
            (&unhex("800597982e"), "NEXT_BUFFER"),
            (b"\x80\x05C\x01x\x98.", "READONLY_BUFFER"),
            // The `set` type itself is not data.
            (&unhex("80059514000000000000008c086275696c74696e73948c037365749493942e"), "'builtins.set'"),
        ];
    for (data, needle) in cases {
        let msg = dec(data).unwrap_err().to_string();
        assert!(msg.starts_with("refused: "), "{msg}");
        assert!(msg.contains(needle), "{msg} should mention {needle}");
    }
    // REDUCE on something that is not an allowlisted constructor.
    assert!(matches!(dec(b"])R."), Err(PickleError::Invalid { .. })));
}
