import { ConvkitError } from '../../tensor/errors.js';
import type { ElementKind } from './dtypes.js';

/**
 * A restricted unpickler for what `torch.save(model.state_dict())` writes (pickle protocol 2):
 * dicts, lists, tuples, numbers, strings, `collections.OrderedDict`, tensors rebuilt by
 * `torch._utils._rebuild_tensor_v2` / `_rebuild_parameter` from typed storages named by
 * persistent ids. It builds inert values and never calls anything: a global outside that
 * list, an opcode outside protocol 2's data opcodes, or a REDUCE of anything but the
 * rebuild functions is a ConvkitError that names it. Work and memory are linear in the
 * pickle's length (every opcode consumes at least one byte and pushes at most one value).
 */

export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

export class PyList {
  readonly items: PyValue[] = [];
}

export class PyDict {
  readonly entries = new Map<PyValue, PyValue>();
  constructor(readonly ordered: boolean) {}
}

/** A storage named by a persistent id `('storage', torch.XStorage, key, location, numel)`. */
export class StorageRef {
  constructor(
    readonly kind: ElementKind,
    readonly key: string,
    readonly location: string,
    readonly numel: number,
  ) {}
}

/** `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)`, not yet read. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly strides: readonly number[],
  ) {}
}

/** One of the allowed globals (never called: REDUCE interprets the two rebuild functions). */
export class PyGlobal {
  constructor(
    readonly qualified: string,
    readonly storageKind: ElementKind | null,
  ) {}
}

export type PyValue = null | boolean | number | bigint | string | PyTuple | PyList | PyDict | StorageRef | TensorRef | PyGlobal;

const STORAGES: Readonly<Record<string, ElementKind>> = {
  FloatStorage: 'f32', HalfStorage: 'f16', BFloat16Storage: 'bf16', DoubleStorage: 'f64',
  LongStorage: 'i64', IntStorage: 'i32', ShortStorage: 'i16', CharStorage: 'i8', ByteStorage: 'u8', BoolStorage: 'bool',
};

const FUNCTIONS = ['collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_parameter'];

/** Every pickle opcode by byte, so that a refusal names the one it met. */
const OPCODE_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  ([
    ['(', 'MARK'], ['.', 'STOP'], ['0', 'POP'], ['1', 'POP_MARK'], ['2', 'DUP'], ['F', 'FLOAT'], ['I', 'INT'], ['J', 'BININT'],
    ['K', 'BININT1'], ['L', 'LONG'], ['M', 'BININT2'], ['N', 'NONE'], ['P', 'PERSID'], ['Q', 'BINPERSID'], ['R', 'REDUCE'],
    ['S', 'STRING'], ['T', 'BINSTRING'], ['U', 'SHORT_BINSTRING'], ['V', 'UNICODE'], ['X', 'BINUNICODE'], ['a', 'APPEND'],
    ['b', 'BUILD'], ['c', 'GLOBAL'], ['d', 'DICT'], ['}', 'EMPTY_DICT'], ['e', 'APPENDS'], ['g', 'GET'], ['h', 'BINGET'],
    ['i', 'INST'], ['j', 'LONG_BINGET'], ['l', 'LIST'], [']', 'EMPTY_LIST'], ['o', 'OBJ'], ['p', 'PUT'], ['q', 'BINPUT'],
    ['r', 'LONG_BINPUT'], ['s', 'SETITEM'], ['t', 'TUPLE'], [')', 'EMPTY_TUPLE'], ['u', 'SETITEMS'], ['G', 'BINFLOAT'],
    ['\x80', 'PROTO'], ['\x81', 'NEWOBJ'], ['\x82', 'EXT1'], ['\x83', 'EXT2'], ['\x84', 'EXT4'], ['\x85', 'TUPLE1'],
    ['\x86', 'TUPLE2'], ['\x87', 'TUPLE3'], ['\x88', 'NEWTRUE'], ['\x89', 'NEWFALSE'], ['\x8a', 'LONG1'], ['\x8b', 'LONG4'],
    ['B', 'BINBYTES'], ['C', 'SHORT_BINBYTES'], ['\x8c', 'SHORT_BINUNICODE'], ['\x8d', 'BINUNICODE8'], ['\x8e', 'BINBYTES8'],
    ['\x8f', 'EMPTY_SET'], ['\x90', 'ADDITEMS'], ['\x91', 'FROZENSET'], ['\x92', 'NEWOBJ_EX'], ['\x93', 'STACK_GLOBAL'],
    ['\x94', 'MEMOIZE'], ['\x95', 'FRAME'], ['\x96', 'BYTEARRAY8'], ['\x97', 'NEXT_BUFFER'], ['\x98', 'READONLY_BUFFER'],
  ] as const).map(([c, n]) => [c.charCodeAt(0), n]),
);

/** Unpickles `bytes`; `name` labels errors (the file and entry). */
export function unpickle(bytes: Uint8Array, name: string): PyValue {
  return new Unpickler(bytes, name).run();
}

class Unpickler {
  private pos = 0;
  private stack: PyValue[] = [];
  private marks: number[] = [];
  private readonly memo = new Map<number, PyValue>();
  private readonly storages = new Map<string, StorageRef>();
  private readonly view: DataView;
  private opStart = 0;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });

  constructor(
    private readonly b: Uint8Array,
    private readonly name: string,
  ) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  private fail(msg: string): never {
    throw new ConvkitError(`${this.name}: ${msg} (pickle offset ${this.opStart})`);
  }

  private need(n: number): number {
    if (this.pos + n > this.b.length) this.fail(`the pickle ends in the middle of an opcode (truncated)`);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  private pop(): PyValue {
    if (this.stack.length <= (this.marks.at(-1) ?? 0)) this.fail('an opcode pops from an empty stack (corrupt pickle)');
    return this.stack.pop()!;
  }

  private top(): PyValue {
    if (this.stack.length <= (this.marks.at(-1) ?? 0)) this.fail('an opcode reads from an empty stack (corrupt pickle)');
    return this.stack[this.stack.length - 1]!;
  }

  private popMark(): PyValue[] {
    const m = this.marks.pop();
    if (m === undefined) this.fail('an opcode needs a MARK that was never set (corrupt pickle)');
    return this.stack.splice(m);
  }

  private line(): string {
    const end = this.b.indexOf(0x0a, this.pos);
    if (end < 0) this.fail('the pickle ends inside a GLOBAL name (truncated)');
    const s = this.text(this.pos, end);
    this.pos = end + 1;
    return s;
  }

  private text(start: number, end: number): string {
    try {
      return this.utf8.decode(this.b.subarray(start, end));
    } catch {
      return this.fail('a string is not valid UTF-8');
    }
  }

  private dictOf(v: PyValue, op: string): PyDict {
    if (!(v instanceof PyDict)) this.fail(`${op} on ${describe(v)}, not a dict`);
    return v as PyDict;
  }

  private setItem(d: PyDict, k: PyValue, v: PyValue): void {
    if (k instanceof PyList || k instanceof PyDict) this.fail(`a dict key is ${describe(k)}, which is unhashable`);
    d.entries.set(k, v);
  }

  run(): PyValue {
    const b = this.b;
    while (this.pos < b.length) {
      this.opStart = this.pos;
      const op = b[this.pos++]!;
      switch (op) {
        case 0x80: {
          const proto = b[this.need(1)]!;
          if (proto > 3) this.fail(`pickle protocol ${proto}; convkit reads protocols 2 and 3 (torch.save writes 2 unless given pickle_protocol)`);
          break;
        }
        case 0x2e: // STOP
          if (this.stack.length !== 1 || this.marks.length) this.fail(`STOP with ${this.stack.length} values on the stack (corrupt pickle)`);
          return this.stack[0]!;
        case 0x28: // MARK
          this.marks.push(this.stack.length);
          break;
        case 0x30: // POP
          this.pop();
          break;
        case 0x31: // POP_MARK
          this.popMark();
          break;
        case 0x32: // DUP
          this.stack.push(this.top());
          break;
        case 0x4e: // NONE
          this.stack.push(null);
          break;
        case 0x88: // NEWTRUE
          this.stack.push(true);
          break;
        case 0x89: // NEWFALSE
          this.stack.push(false);
          break;
        case 0x4a: // BININT
          this.stack.push(this.view.getInt32(this.need(4), true));
          break;
        case 0x4b: // BININT1
          this.stack.push(b[this.need(1)]!);
          break;
        case 0x4d: // BININT2
          this.stack.push(this.view.getUint16(this.need(2), true));
          break;
        case 0x8a: {
          // LONG1 (LONG4, for integers over 255 bytes, is refused: torch.save never needs one)
          const n = b[this.need(1)]!;
          const at = this.need(n);
          this.stack.push(littleEndianInt(b.subarray(at, at + n)));
          break;
        }
        case 0x47: // BINFLOAT (big-endian)
          this.stack.push(this.view.getFloat64(this.need(8), false));
          break;
        case 0x58: {
          // BINUNICODE
          const n = this.view.getUint32(this.need(4), true);
          const at = this.need(n);
          this.stack.push(this.text(at, at + n));
          break;
        }
        case 0x7d: // EMPTY_DICT
          this.stack.push(new PyDict(false));
          break;
        case 0x5d: // EMPTY_LIST
          this.stack.push(new PyList());
          break;
        case 0x29: // EMPTY_TUPLE
          this.stack.push(new PyTuple([]));
          break;
        case 0x85: // TUPLE1
        case 0x86: // TUPLE2
        case 0x87: {
          // TUPLE3
          const items: PyValue[] = [];
          for (let i = 0; i < op - 0x84; i++) items.unshift(this.pop());
          this.stack.push(new PyTuple(items));
          break;
        }
        case 0x74: // TUPLE
          this.stack.push(new PyTuple(this.popMark()));
          break;
        case 0x6c: {
          // LIST
          const l = new PyList();
          l.items.push(...this.popMark());
          this.stack.push(l);
          break;
        }
        case 0x64: {
          // DICT
          const items = this.popMark();
          if (items.length % 2) this.fail('DICT with an odd number of items');
          const d = new PyDict(false);
          for (let i = 0; i < items.length; i += 2) this.setItem(d, items[i]!, items[i + 1]!);
          this.stack.push(d);
          break;
        }
        case 0x61: {
          // APPEND
          const v = this.pop();
          const l = this.top();
          if (!(l instanceof PyList)) this.fail(`APPEND to ${describe(l)}, not a list`);
          (l as PyList).items.push(v);
          break;
        }
        case 0x65: {
          // APPENDS
          const items = this.popMark();
          const l = this.top();
          if (!(l instanceof PyList)) this.fail(`APPENDS to ${describe(l)}, not a list`);
          for (const v of items) (l as PyList).items.push(v);
          break;
        }
        case 0x73: {
          // SETITEM
          const v = this.pop();
          const k = this.pop();
          this.setItem(this.dictOf(this.top(), 'SETITEM'), k, v);
          break;
        }
        case 0x75: {
          // SETITEMS
          const items = this.popMark();
          if (items.length % 2) this.fail('SETITEMS with an odd number of items');
          const d = this.dictOf(this.top(), 'SETITEMS');
          for (let i = 0; i < items.length; i += 2) this.setItem(d, items[i]!, items[i + 1]!);
          break;
        }
        case 0x71: // BINPUT
          this.memo.set(b[this.need(1)]!, this.top());
          break;
        case 0x72: // LONG_BINPUT
          this.memo.set(this.view.getUint32(this.need(4), true), this.top());
          break;
        case 0x68: // BINGET
        case 0x6a: {
          // LONG_BINGET
          const key = op === 0x68 ? b[this.need(1)]! : this.view.getUint32(this.need(4), true);
          if (!this.memo.has(key)) this.fail(`BINGET of memo slot ${key}, which was never set`);
          this.stack.push(this.memo.get(key)!);
          break;
        }
        case 0x63: // GLOBAL
          this.stack.push(this.global(this.line(), this.line()));
          break;
        case 0x51: // BINPERSID
          this.stack.push(this.persistent(this.pop()));
          break;
        case 0x52: {
          // REDUCE
          const args = this.pop();
          const fn = this.pop();
          this.stack.push(this.reduce(fn, args));
          break;
        }
        case 0x62: {
          // BUILD: only OrderedDict's instance state (state_dict()'s `_metadata`, kept inert).
          const state = this.pop();
          const obj = this.top();
          if (!(obj instanceof PyDict) || !(state instanceof PyDict || state === null)) {
            this.fail(`BUILD (setting the state of ${describe(obj)}), which a PyTorch state dict only does on an OrderedDict`);
          }
          break;
        }
        default: {
          const opName = OPCODE_NAMES[op];
          this.fail(
            opName
              ? `the pickle uses opcode ${opName}, which torch.save never writes for a state dict; convkit's restricted unpickler refuses it (no code runs)`
              : `byte 0x${op.toString(16).padStart(2, '0')} is not a pickle opcode (corrupt file)`,
          );
        }
      }
    }
    this.opStart = this.pos;
    return this.fail('the pickle has no STOP opcode (truncated)');
  }

  private global(module: string, name: string): PyGlobal {
    const q = `${module}.${name}`;
    if (module === 'torch' && Object.hasOwn(STORAGES, name)) return new PyGlobal(q, STORAGES[name]!);
    if (FUNCTIONS.includes(q)) return new PyGlobal(q, null);
    return this.fail(
      `the pickle refers to the global ${q}, which a PyTorch state dict never needs; convkit's restricted unpickler ` +
        `allows only ${FUNCTIONS.join(', ')} and torch's typed storages, and never runs code. ` +
        `If this file holds a whole model (torch.save(model)), save model.state_dict() instead`,
    );
  }

  private persistent(pid: PyValue): StorageRef {
    const items = pid instanceof PyTuple ? pid.items : null;
    if (!items || items.length !== 5 || items[0] !== 'storage') {
      return this.fail(`a persistent id is ${describe(pid)}, not ('storage', type, key, location, numel)`);
    }
    const [, type, key, location, numel] = items;
    if (!(type instanceof PyGlobal) || type.storageKind === null) this.fail(`a persistent id names ${describe(type!)}, not a torch storage type`);
    if (typeof key !== 'string' || !/^[0-9A-Za-z_]+$/.test(key)) this.fail(`a persistent id has storage key ${describe(key!)}`);
    if (typeof location !== 'string') this.fail(`a persistent id has location ${describe(location!)}`);
    if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) this.fail(`a persistent id has ${describe(numel!)} elements`);
    const kind = (type as PyGlobal).storageKind!;
    const seen = this.storages.get(key as string);
    if (seen) {
      if (seen.kind !== kind || seen.numel !== numel) this.fail(`storage ${key} is named twice with different types or sizes`);
      return seen;
    }
    const ref = new StorageRef(kind, key as string, location as string, numel as number);
    this.storages.set(key as string, ref);
    return ref;
  }

  private reduce(fn: PyValue, args: PyValue): PyValue {
    if (!(fn instanceof PyGlobal) || fn.storageKind !== null) {
      return this.fail(`REDUCE calls ${describe(fn)}; only collections.OrderedDict and torch's tensor rebuild functions may be called`);
    }
    if (!(args instanceof PyTuple)) return this.fail(`REDUCE of ${fn.qualified} with ${describe(args)} as arguments, not a tuple`);
    const a = args.items;
    switch (fn.qualified) {
      case 'collections.OrderedDict':
        if (a.length !== 0) this.fail(`OrderedDict called with ${a.length} arguments; torch.save passes none`);
        return new PyDict(true);
      case 'torch._utils._rebuild_parameter':
        if (a.length !== 3 || !(a[0] instanceof TensorRef) || typeof a[1] !== 'boolean') {
          this.fail('_rebuild_parameter called with arguments other than (tensor, requires_grad, hooks)');
        }
        return a[0] as TensorRef;
      default: {
        // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
        if (a.length !== 6 && a.length !== 7) this.fail(`_rebuild_tensor_v2 called with ${a.length} arguments, expected 6`);
        const [storage, offset, size, stride, requiresGrad, hooks] = a;
        if (!(storage instanceof StorageRef)) return this.fail(`_rebuild_tensor_v2's storage is ${describe(storage!)}`);
        if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) return this.fail(`_rebuild_tensor_v2's offset is ${describe(offset!)}`);
        const shape = intTuple(size!);
        const strides = intTuple(stride!);
        if (!shape || !strides || shape.length !== strides.length) {
          return this.fail(`_rebuild_tensor_v2's size ${describe(size!)} and stride ${describe(stride!)} are not tuples of non-negative integers of one length`);
        }
        if (typeof requiresGrad !== 'boolean') this.fail(`_rebuild_tensor_v2's requires_grad is ${describe(requiresGrad!)}`);
        if (!(hooks instanceof PyDict) || hooks.entries.size) this.fail('_rebuild_tensor_v2 with backward hooks (code), which convkit refuses');
        return new TensorRef(storage, offset, shape, strides);
      }
    }
  }
}

function intTuple(v: PyValue): number[] | null {
  if (!(v instanceof PyTuple)) return null;
  return v.items.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0) ? (v.items as number[]) : null;
}

/** Two's-complement little-endian integer (LONG1), as a number when it is safe. */
function littleEndianInt(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let hex = '';
  for (let i = bytes.length - 1; i >= 0; i--) hex += bytes[i]!.toString(16).padStart(2, '0');
  let v = BigInt(`0x${hex}`);
  if (bytes[bytes.length - 1]! & 0x80) v -= 1n << BigInt(bytes.length * 8);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** How errors name a value: its Python type, and the value when it is short. */
export function describe(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'string') return v.length > 40 ? `a string '${v.slice(0, 40)}...'` : `'${v}'`;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v instanceof PyTuple) return `a tuple of ${v.items.length}`;
  if (v instanceof PyList) return `a list of ${v.items.length}`;
  if (v instanceof PyDict) return `a dict of ${v.entries.size}`;
  if (v instanceof StorageRef) return `a storage`;
  if (v instanceof TensorRef) return `a tensor`;
  return v.qualified;
}
