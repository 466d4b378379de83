//! A BPF instruction assembler: just what the task_file program needs.
//!
//! include/uapi/linux/bpf.h: struct bpf_insn is { u8 code; u8 dst_reg:4,
//! src_reg:4; s16 off; s32 imm }; the opcodes are
//! include/uapi/linux/bpf_common.h's and bpf.h's classes, sizes and modes.
//! Jumps name a [`Label`] and are resolved by [`Asm::finish`].

/// One instruction, as the kernel reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Insn {
    pub code: u8,
    /// dst in the low four bits, src in the high four.
    pub regs: u8,
    pub off: i16,
    pub imm: i32,
}

/// The registers (R10 is the read-only frame pointer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reg {
    R0 = 0,
    R1,
    R2,
    R3,
    R4,
    R5,
    R6,
    R7,
    R8,
    R9,
    R10,
}

/// Load and store sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// 1 byte
    B,
    /// 2 bytes
    H,
    /// 4 bytes
    W,
    /// 8 bytes
    Dw,
}

impl Size {
    /// The size of a load of `bytes` bytes, if there is one.
    pub fn of(bytes: u32) -> Option<Size> {
        Some(match bytes {
            1 => Size::B,
            2 => Size::H,
            4 => Size::W,
            8 => Size::Dw,
            _ => return None,
        })
    }

    /// BPF_B, BPF_H, BPF_W, BPF_DW.
    fn bits(self) -> u8 {
        match self {
            Size::W => 0x00,
            Size::H => 0x08,
            Size::B => 0x10,
            Size::Dw => 0x18,
        }
    }
}

// include/uapi/linux/bpf_common.h and bpf.h: classes, modes, ops.
const BPF_LD: u8 = 0x00;
const BPF_LDX: u8 = 0x01;
const BPF_STX: u8 = 0x03;
const BPF_JMP: u8 = 0x05;
const BPF_ALU64: u8 = 0x07;
const BPF_IMM: u8 = 0x00;
const BPF_MEM: u8 = 0x60;
const BPF_K: u8 = 0x00;
const BPF_X: u8 = 0x08;
const BPF_ADD: u8 = 0x00;
const BPF_AND: u8 = 0x50;
const BPF_MOV: u8 = 0xb0;
const BPF_JA: u8 = 0x00;
const BPF_JEQ: u8 = 0x10;
const BPF_JNE: u8 = 0x50;
const BPF_CALL: u8 = 0x80;
const BPF_EXIT: u8 = 0x90;

/// A jump target, placed with [`Asm::label`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label(usize);

/// A program being assembled.
#[derive(Debug, Default)]
pub struct Asm {
    insns: Vec<Insn>,
    /// Where each label was placed (instruction index).
    labels: Vec<Option<usize>>,
    /// (instruction index, label) of each jump.
    jumps: Vec<(usize, Label)>,
}

/// A label that was jumped to but never placed, or a jump too far.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the program's jump {0} has no target")]
pub struct AsmError(usize);

fn insn(code: u8, dst: Reg, src: Reg, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (dst as u8) | ((src as u8) << 4),
        off,
        imm,
    }
}

impl Asm {
    pub fn new() -> Asm {
        Asm::default()
    }

    /// A new label, not yet placed.
    pub fn new_label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    /// Places `label` at the next instruction.
    pub fn label(&mut self, label: Label) {
        self.labels[label.0] = Some(self.insns.len());
    }

    /// dst = src
    pub fn mov(&mut self, dst: Reg, src: Reg) {
        self.insns
            .push(insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0));
    }

    /// dst = imm (sign-extended)
    pub fn mov_imm(&mut self, dst: Reg, imm: i32) {
        self.insns
            .push(insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, Reg::R0, 0, imm));
    }

    /// dst = imm64 (two instruction slots)
    pub fn ld_imm64(&mut self, dst: Reg, imm: u64) {
        self.insns.push(insn(
            BPF_LD | BPF_IMM | 0x18,
            dst,
            Reg::R0,
            0,
            imm as u32 as i32,
        ));
        self.insns.push(Insn {
            code: 0,
            regs: 0,
            off: 0,
            imm: (imm >> 32) as u32 as i32,
        });
    }

    /// dst += imm
    pub fn add_imm(&mut self, dst: Reg, imm: i32) {
        self.insns
            .push(insn(BPF_ALU64 | BPF_ADD | BPF_K, dst, Reg::R0, 0, imm));
    }

    /// dst &= imm
    pub fn and_imm(&mut self, dst: Reg, imm: i32) {
        self.insns
            .push(insn(BPF_ALU64 | BPF_AND | BPF_K, dst, Reg::R0, 0, imm));
    }

    /// dst = *(size *)(src + off)
    pub fn load(&mut self, size: Size, dst: Reg, src: Reg, off: i16) {
        self.insns
            .push(insn(BPF_LDX | BPF_MEM | size.bits(), dst, src, off, 0));
    }

    /// *(size *)(dst + off) = src
    pub fn store(&mut self, size: Size, dst: Reg, off: i16, src: Reg) {
        self.insns
            .push(insn(BPF_STX | BPF_MEM | size.bits(), dst, src, off, 0));
    }

    fn jump(&mut self, code: u8, dst: Reg, src: Reg, imm: i32, to: Label) {
        self.jumps.push((self.insns.len(), to));
        self.insns.push(insn(code, dst, src, 0, imm));
    }

    /// if dst == imm goto to
    pub fn jeq_imm(&mut self, dst: Reg, imm: i32, to: Label) {
        self.jump(BPF_JMP | BPF_JEQ | BPF_K, dst, Reg::R0, imm, to);
    }

    /// if dst != imm goto to
    pub fn jne_imm(&mut self, dst: Reg, imm: i32, to: Label) {
        self.jump(BPF_JMP | BPF_JNE | BPF_K, dst, Reg::R0, imm, to);
    }

    /// if dst == src goto to
    pub fn jeq(&mut self, dst: Reg, src: Reg, to: Label) {
        self.jump(BPF_JMP | BPF_JEQ | BPF_X, dst, src, 0, to);
    }

    /// if dst != src goto to
    pub fn jne(&mut self, dst: Reg, src: Reg, to: Label) {
        self.jump(BPF_JMP | BPF_JNE | BPF_X, dst, src, 0, to);
    }

    /// goto to
    pub fn ja(&mut self, to: Label) {
        self.jump(BPF_JMP | BPF_JA, Reg::R0, Reg::R0, 0, to);
    }

    /// call helper
    pub fn call(&mut self, helper: i32) {
        self.insns
            .push(insn(BPF_JMP | BPF_CALL, Reg::R0, Reg::R0, 0, helper));
    }

    pub fn exit(&mut self) {
        self.insns
            .push(insn(BPF_JMP | BPF_EXIT, Reg::R0, Reg::R0, 0, 0));
    }

    /// The instructions, jumps resolved (offsets count from the
    /// instruction after the jump).
    pub fn finish(mut self) -> Result<Vec<Insn>, AsmError> {
        for &(at, Label(l)) in &self.jumps {
            let to = self.labels[l].ok_or(AsmError(at))?;
            let off = i16::try_from(to as isize - at as isize - 1).map_err(|_| AsmError(at))?;
            self.insns[at].off = off;
        }
        Ok(self.insns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_as_the_kernel_reads() {
        let mut a = Asm::new();
        let out = a.new_label();
        a.mov(Reg::R6, Reg::R1); // bf 16
        a.load(Size::Dw, Reg::R2, Reg::R6, 8); // 79 62 08 00
        a.jeq_imm(Reg::R2, 0, out); // 15 02 +1
        a.store(Size::W, Reg::R10, -16, Reg::R1); // 63 1a f0 ff
        a.label(out);
        a.mov_imm(Reg::R0, 0); // b7 00
        a.exit(); // 95
        let p = a.finish().unwrap();
        assert_eq!((p[0].code, p[0].regs), (0xbf, 0x16));
        assert_eq!((p[1].code, p[1].regs, p[1].off), (0x79, 0x62, 8));
        assert_eq!((p[2].code, p[2].regs, p[2].off), (0x15, 0x02, 1));
        assert_eq!((p[3].code, p[3].regs, p[3].off), (0x63, 0x1a, -16));
        assert_eq!((p[4].code, p[5].code), (0xb7, 0x95));
        assert_eq!(std::mem::size_of::<Insn>(), 8);
    }

    #[test]
    fn imm64_takes_two_slots() {
        let mut a = Asm::new();
        a.ld_imm64(Reg::R1, 0x1234_5678_9abc_def0);
        let p = a.finish().unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].code, p[0].imm as u32), (0x18, 0x9abc_def0));
        assert_eq!(p[1].imm as u32, 0x1234_5678);
    }

    #[test]
    fn unplaced_label_is_an_error() {
        let mut a = Asm::new();
        let l = a.new_label();
        a.ja(l);
        assert_eq!(a.finish().unwrap_err(), AsmError(0));
    }
}
