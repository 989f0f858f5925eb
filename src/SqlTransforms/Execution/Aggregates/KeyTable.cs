namespace DataPlane.SqlTransforms.Execution.Aggregates;

/// <summary>
/// Group keys as byte strings (see <see cref="KeyCodec"/>) to dense ids 0, 1, 2... in insertion order: an open
/// addressing hash table over one byte arena, so finding a row's group allocates nothing. Writes and reads itself
/// (the keys in id order) for state snapshots.
/// </summary>
internal sealed class KeyTable
{
    /// <summary>Keys a new table has room for.</summary>
    public const int InitialCapacity = 16;

    private byte[] _arena = new byte[256];
    private int _arenaLength;
    private int[] _offsets = new int[InitialCapacity];
    private int[] _lengths = new int[InitialCapacity];
    private int[] _hashes = new int[InitialCapacity];
    private int[] _slots = NewSlots(2 * InitialCapacity);

    public int Count { get; private set; }

    /// <summary>The slots hold a sort, not the hash table (<see cref="SortedForSpill"/>), until <see cref="Clear"/>.</summary>
    private bool _sorted;

    /// <summary>Bytes held by the keys and the table (for state size figures).</summary>
    public long Bytes => _arena.Length + (long)_offsets.Length * 12 + _slots.Length * 4L;

    /// <summary>Groups the table has room for before it grows (the per-group arrays of aggregates grow alike).</summary>
    public int Capacity => _offsets.Length;

    public ReadOnlySpan<byte> Key(int id) => _arena.AsSpan(_offsets[id], _lengths[id]);

    public int GetOrAdd(ReadOnlySpan<byte> key) => GetOrAdd(key, out _);

    /// <summary>Forgets every key, keeping the memory (array_distinct reuses one table row after row).</summary>
    public void Clear()
    {
        if (Count == 0) return;
        Array.Fill(_slots, -1);
        Count = 0;
        _arenaLength = 0;
        _sorted = false;
    }

    public int GetOrAdd(ReadOnlySpan<byte> key, out bool added) => GetOrAdd(key, grow: true, out added);

    /// <summary>
    /// The ids in the byte order of their keys, for writing them out before the table is emptied: sorted in the
    /// table's own slots, so spilling a table allocates nothing as large as it. Keys are found by id after, not by
    /// value, until <see cref="Clear"/>.
    /// </summary>
    public ReadOnlySpan<int> SortedForSpill()
    {
        var ids = _slots.AsSpan(0, Count); // the slots are twice as many as the keys
        for (int i = 0; i < ids.Length; i++) ids[i] = i;
        ids.Sort((a, b) => Key(a).SequenceCompareTo(Key(b)));
        _sorted = true;
        return ids;
    }

    /// <summary>The id of a key, added if the table has room for it without growing; -1 when it would have to grow
    /// (a caller bounding memory decides first: <see cref="Growth"/>).</summary>
    public int GetOrAddInPlace(ReadOnlySpan<byte> key) => GetOrAdd(key, grow: false, out _);

    /// <summary>Whether adding a key of <paramref name="length"/> bytes grows the table's arrays.</summary>
    public bool Full(int length) => Count == _offsets.Length || _arenaLength + length > _arena.Length;

    /// <summary>
    /// What adding a key of <paramref name="length"/> bytes to a <see cref="Full"/> table allocates: the bytes added,
    /// and those of the arrays it replaces (garbage until a collection). Each array grows by doubling; the slots grow
    /// with the rows (a table of capacity C has 2C slots).
    /// </summary>
    public (long Added, long Replaced) Growth(int length)
    {
        long added = 0, replaced = 0;
        if (Count == _offsets.Length)
        {
            long rows = _offsets.Length * 12L + _slots.Length * 4L;
            added += rows;
            replaced += rows;
        }
        if (_arenaLength + length > _arena.Length)
        {
            long arena = Math.Min(Array.MaxLength, Math.Max((long)_arena.Length * 2, _arenaLength + (long)length));
            added += arena - _arena.Length;
            replaced += _arena.Length;
        }
        return (added, replaced);
    }

    private int GetOrAdd(ReadOnlySpan<byte> key, bool grow, out bool added)
    {
        if (_sorted) throw new InvalidOperationException("a key table sorted for a spill is read by id until it is cleared");
        int hash = Hash(key);
        int mask = _slots.Length - 1;
        int slot = hash & mask;
        while (true)
        {
            int id = _slots[slot];
            if (id < 0) break;
            if (_hashes[id] == hash && Key(id).SequenceEqual(key)) { added = false; return id; }
            slot = (slot + 1) & mask;
        }
        if (!grow && Full(key.Length)) { added = false; return -1; }
        added = true;
        return Insert(key, hash, slot);
    }

    /// <summary>The id of a key, or -1.</summary>
    public int Find(ReadOnlySpan<byte> key)
    {
        if (_sorted) throw new InvalidOperationException("a key table sorted for a spill is read by id until it is cleared");
        int hash = Hash(key);
        int mask = _slots.Length - 1;
        for (int slot = hash & mask; ; slot = (slot + 1) & mask)
        {
            int id = _slots[slot];
            if (id < 0) return -1;
            if (_hashes[id] == hash && Key(id).SequenceEqual(key)) return id;
        }
    }

    private int Insert(ReadOnlySpan<byte> key, int hash, int slot)
    {
        int id = Count;
        GroupArrays.Grow(ref _offsets, id + 1);
        GroupArrays.Grow(ref _lengths, id + 1);
        GroupArrays.Grow(ref _hashes, id + 1);
        if (_arenaLength + key.Length > _arena.Length)
            Array.Resize(ref _arena, (int)Math.Min(Array.MaxLength, Math.Max((long)_arena.Length * 2, _arenaLength + (long)key.Length)));
        key.CopyTo(_arena.AsSpan(_arenaLength));
        _offsets[id] = _arenaLength;
        _lengths[id] = key.Length;
        _hashes[id] = hash;
        _arenaLength += key.Length;
        _slots[slot] = id;
        Count++;
        if (Count * 2 > _slots.Length) Rehash(_slots.Length * 2);
        return id;
    }

    private void Rehash(int size)
    {
        _slots = NewSlots(size);
        int mask = size - 1;
        for (int id = 0; id < Count; id++)
        {
            int slot = _hashes[id] & mask;
            while (_slots[slot] >= 0) slot = (slot + 1) & mask;
            _slots[slot] = id;
        }
    }

    private static int[] NewSlots(int size)
    {
        var slots = new int[size];
        Array.Fill(slots, -1);
        return slots;
    }

    private static int Hash(ReadOnlySpan<byte> key)
    {
        var h = new HashCode();
        h.AddBytes(key);
        return h.ToHashCode() & int.MaxValue;
    }

    public void Write(BinaryWriter writer)
    {
        writer.Write(Count);
        for (int id = 0; id < Count; id++)
        {
            writer.Write(_lengths[id]);
            writer.Write(_arena, _offsets[id], _lengths[id]);
        }
    }

    public static KeyTable Read(BinaryReader reader)
    {
        var table = new KeyTable();
        int count = reader.ReadInt32();
        for (int i = 0; i < count; i++)
        {
            int id = table.GetOrAdd(reader.ReadBytes(reader.ReadInt32()), out bool added);
            if (!added || id != i) throw new InvalidDataException("the state holds a group key twice");
        }
        return table;
    }
}
