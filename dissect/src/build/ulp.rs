//! iSER and iSCSI fields (tshark's names where tshark has the field).

use oneshot_codec::iscsi::{Bhs, IscsiOpcode, cdb_rw10_fields};
use oneshot_codec::iser::IserHeader;

use super::B;
use crate::registry::f;
use crate::tree::{SourceId, Tree};

/// The 28-octet iSER header at `base` of `src`.
pub fn iser(t: &mut Tree, src: SourceId, base: usize, h: &IserHeader<&[u8]>) {
    let mut b = B::new(t, src, base);
    let top = b.open(f::ISER, 0, 28);
    b.t.label(top, format_args!("iSCSI Extensions for RDMA"));
    if !b.t.builds_within(f::ISER) {
        // No field of it is wanted (`-T fields`): the protocol node alone.
        b.close();
        return;
    }
    let fl = u64::from(h.flags());
    b.u(f::ISER_FLAGS, fl, 0, 1);
    b.t.push();
    b.bits(f::ISER_FLAGS_OPCODE, fl, 0, 1);
    b.bits(f::ISER_FLAGS_WSV, fl, 0, 1);
    b.bits(f::ISER_FLAGS_RSV, fl, 0, 1);
    b.bits(f::ISER_FLAGS_REJ, fl, 0, 1);
    b.t.pop();
    b.u(f::ISER_WRITE_STAG, u64::from(h.write_stag()), 4, 4);
    b.u(f::ISER_WRITE_BASE_OFFSET, h.write_base_offset(), 8, 8);
    b.u(f::ISER_READ_STAG, u64::from(h.read_stag()), 16, 4);
    b.u(f::ISER_READ_BASE_OFFSET, h.read_base_offset(), 20, 8);
    b.close();
}

/// The iSCSI basic header segment at `base` of `src`. Returns (opcode, ITT, EDTL, flags,
/// status) for the Info column and the analysis.
pub fn iscsi(t: &mut Tree, src: SourceId, base: usize, h: &Bhs<&[u8]>) -> (u8, u32, u32, u8, u8) {
    let mut b = B::new(t, src, base);
    let op = h.opcode();
    let top = b.open(f::ISCSI, 0, 48);
    b.t.label(top, format_args!("iSCSI ({})", op.name()));
    let t = &b.t;
    if !(t.builds_within(f::ISCSI) || t.builds_within(f::SCSI) || t.builds_within(f::SCSI_SBC)) {
        // No field of these protocols is wanted (`-T fields`): their nodes alone.
        if op == IscsiOpcode::ScsiCommand {
            scsi(&mut b);
            b.close();
            if let Some((sop, _, _)) = cdb_rw10_fields(&h.cdb()) {
                scsi_sbc(&mut b, sop);
                b.close();
            }
        }
        b.close();
        return iscsi_values(h);
    }
    let o0 = u64::from(h.opcode_byte());
    b.bits(f::ISCSI_I, o0, 0, 1);
    b.bits(f::ISCSI_OPCODE, o0, 0, 1);
    let fl = u64::from(h.flags());
    b.u(f::ISCSI_FLAGS, fl, 1, 1);
    b.t.push();
    match op {
        IscsiOpcode::ScsiCommand => {
            b.bits(f::ISCSI_SCSICOMMAND_F, fl, 1, 1);
            b.bits(f::ISCSI_SCSICOMMAND_R, fl, 1, 1);
            b.bits(f::ISCSI_SCSICOMMAND_W, fl, 1, 1);
            b.bits(f::ISCSI_SCSICOMMAND_ATTR, fl, 1, 1);
        }
        IscsiOpcode::ScsiResponse => {
            b.bits(f::ISCSI_SCSIRESPONSE_O, fl, 1, 1);
            b.bits(f::ISCSI_SCSIRESPONSE_U, fl, 1, 1);
        }
        IscsiOpcode::DataIn => {
            b.bits(f::ISCSI_SCSIDATA_F, fl, 1, 1);
            b.bits(f::ISCSI_SCSIDATA_O, fl, 1, 1);
            b.bits(f::ISCSI_SCSIDATA_U, fl, 1, 1);
            b.bits(f::ISCSI_SCSIDATA_S, fl, 1, 1);
        }
        IscsiOpcode::DataOut => {
            b.bits(f::ISCSI_SCSIDATA_F, fl, 1, 1);
        }
        _ => {}
    }
    b.t.pop();
    b.u(f::ISCSI_TOTALAHSLENGTH, u64::from(h.total_ahs_len()), 4, 1);
    b.u(
        f::ISCSI_DATASEGMENTLENGTH,
        u64::from(h.data_segment_len()),
        5,
        3,
    );
    let itt = h.itt();
    match op {
        IscsiOpcode::ScsiCommand => {
            scsi(&mut b);
            b.u(f::SCSI_LUN, (h.lun() >> 48) & 0xFFFF, 8, 2);
            b.close();
            b.u(f::ISCSI_INITIATORTASKTAG, u64::from(itt), 16, 4);
            let edtl = h.edtl();
            b.u(
                f::ISCSI_SCSICOMMAND_EXPECTEDDATATRANSFERLENGTH,
                u64::from(edtl),
                20,
                4,
            );
            b.u(f::ISCSI_CMDSN, u64::from(h.cmdsn()), 24, 4);
            b.u(f::ISCSI_EXPSTATSN, u64::from(h.expstatsn()), 28, 4);
            b.bytes(f::ISCSI_CDB, 32, 16);
            let cdb = h.cdb();
            if let Some((sop, lba, blocks)) = cdb_rw10_fields(&cdb) {
                scsi_sbc(&mut b, sop);
                b.u(f::SCSI_SBC_OPCODE, u64::from(sop), 32, 1);
                b.u(f::SCSI_SBC_RDWR10_LBA, u64::from(lba), 34, 4);
                b.u(f::SCSI_SBC_RDWR10_XFERLEN, u64::from(blocks), 39, 2);
                b.close();
            }
        }
        IscsiOpcode::ScsiResponse => {
            b.u(
                f::ISCSI_SCSIRESPONSE_RESPONSE,
                u64::from(h.response()),
                2,
                1,
            );
            let status = h.status();
            b.u(f::ISCSI_SCSIRESPONSE_STATUS, u64::from(status), 3, 1);
            b.u(f::ISCSI_INITIATORTASKTAG, u64::from(itt), 16, 4);
            b.u(f::ISCSI_STATSN, u64::from(h.statsn()), 24, 4);
            b.u(f::ISCSI_EXPCMDSN, u64::from(h.expcmdsn()), 28, 4);
            b.u(f::ISCSI_MAXCMDSN, u64::from(h.maxcmdsn()), 32, 4);
            b.u(f::ISCSI_EXPDATASN, u64::from(h.expdatasn()), 36, 4);
            b.u(
                f::ISCSI_SCSIRESPONSE_BIDIREADRESIDUALCOUNT,
                u64::from(h.bidi_residual()),
                40,
                4,
            );
            b.u(
                f::ISCSI_SCSIRESPONSE_RESIDUALCOUNT,
                u64::from(h.residual()),
                44,
                4,
            );
        }
        IscsiOpcode::R2t => {
            b.u(f::ISCSI_INITIATORTASKTAG, u64::from(itt), 16, 4);
            b.u(f::ISCSI_TARGETTRANSFERTAG, u64::from(h.ttt()), 20, 4);
            b.u(f::ISCSI_STATSN, u64::from(h.statsn()), 24, 4);
            b.u(f::ISCSI_EXPCMDSN, u64::from(h.expcmdsn()), 28, 4);
            b.u(f::ISCSI_MAXCMDSN, u64::from(h.maxcmdsn()), 32, 4);
            b.u(f::ISCSI_R2TSN, u64::from(h.r2tsn()), 36, 4);
            b.u(f::ISCSI_BUFFEROFFSET, u64::from(h.buffer_offset()), 40, 4);
            b.u(
                f::ISCSI_DESIREDDATALENGTH,
                u64::from(h.desired_len()),
                44,
                4,
            );
        }
        IscsiOpcode::DataOut => {
            b.u(f::ISCSI_INITIATORTASKTAG, u64::from(itt), 16, 4);
            b.u(f::ISCSI_TARGETTRANSFERTAG, u64::from(h.ttt()), 20, 4);
            b.u(f::ISCSI_EXPSTATSN, u64::from(h.expstatsn()), 28, 4);
            b.u(f::ISCSI_DATASN, u64::from(h.datasn()), 36, 4);
            b.u(f::ISCSI_BUFFEROFFSET, u64::from(h.buffer_offset()), 40, 4);
        }
        IscsiOpcode::DataIn => {
            let status = h.status();
            if h.status_present() {
                b.u(f::ISCSI_SCSIRESPONSE_STATUS, u64::from(status), 3, 1);
            }
            b.u(f::ISCSI_INITIATORTASKTAG, u64::from(itt), 16, 4);
            b.u(f::ISCSI_TARGETTRANSFERTAG, u64::from(h.ttt()), 20, 4);
            b.u(f::ISCSI_STATSN, u64::from(h.statsn()), 24, 4);
            b.u(f::ISCSI_EXPCMDSN, u64::from(h.expcmdsn()), 28, 4);
            b.u(f::ISCSI_MAXCMDSN, u64::from(h.maxcmdsn()), 32, 4);
            b.u(f::ISCSI_DATASN, u64::from(h.datasn()), 36, 4);
            b.u(f::ISCSI_BUFFEROFFSET, u64::from(h.buffer_offset()), 40, 4);
            b.u(
                f::ISCSI_SCSIDATA_READRESIDUALCOUNT,
                u64::from(h.residual()),
                44,
                4,
            );
        }
        _ => {
            b.u(f::ISCSI_INITIATORTASKTAG, u64::from(itt), 16, 4);
        }
    }
    b.close();
    iscsi_values(h)
}

/// Opens the `scsi` node of a SCSI Command.
fn scsi(b: &mut B<'_>) {
    let s = b.open(f::SCSI, 8, 8);
    b.t.label(s, format_args!("SCSI"));
}

/// Opens the `scsi_sbc` node of a SCSI Command's Read(10) or Write(10) CDB.
fn scsi_sbc(b: &mut B<'_>, sop: u8) {
    let s = b.open(f::SCSI_SBC, 32, 16);
    b.t.label(
        s,
        format_args!(
            "SCSI Command: {}",
            if sop == 0x28 { "Read(10)" } else { "Write(10)" }
        ),
    );
}

/// (opcode, ITT, EDTL of a SCSI Command, flags, status of a SCSI Response or Data-In) of a
/// basic header segment: what the Info column and the analysis use.
pub fn iscsi_values(h: &Bhs<&[u8]>) -> (u8, u32, u32, u8, u8) {
    let op = h.opcode();
    let edtl = if op == IscsiOpcode::ScsiCommand {
        h.edtl()
    } else {
        0
    };
    let status = match op {
        IscsiOpcode::ScsiResponse | IscsiOpcode::DataIn => h.status(),
        _ => 0,
    };
    (op.raw(), h.itt(), edtl, h.flags(), status)
}
