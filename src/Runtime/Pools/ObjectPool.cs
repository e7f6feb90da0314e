using System.Diagnostics.CodeAnalysis;

namespace WsGen;

/// <summary>
/// Keeps up to a fixed number of objects for reuse. <see cref="Get"/> hands out a retained object or creates
/// one; <see cref="Put"/> resets an object and keeps it unless the pool is full, in which case it is dropped
/// for the garbage collector.
/// </summary>
/// <remarks>
/// <para>The retained objects are an array-backed stack (the object returned last is reused first). The array
/// grows by doubling up to <see cref="MaxRetained"/>, so a large limit costs nothing until it is used; once the
/// pool is warm, <see cref="Get"/> and <see cref="Put"/> allocate nothing.</para>
/// <para>Thread-safe: the stack is guarded by one uncontended-in-practice <see cref="Lock"/>. The factory and
/// the reset action run outside the lock.</para>
/// <para>The pool does not detect an object given back twice (that check would cost a scan per
/// <see cref="Put"/>); doing so would let two callers share one object. Callers own an object from
/// <see cref="Get"/> until they <see cref="Put"/> it, once.</para>
/// </remarks>
public sealed class ObjectPool<T> : IObjectPool<T> where T : class
{
    private const int InitialSize = 16;

    private readonly Lock _lock = new();
    private readonly Func<T> _factory;
    private readonly Action<T>? _reset;
    private readonly int _maxRetained;
    private T?[] _items;
    private int _count;

    /// <param name="factory">Creates an object when none is retained. Must not return null.</param>
    /// <param name="maxRetained">The most objects kept for reuse (0 keeps none).</param>
    /// <param name="reset">Run on every object given to <see cref="Put"/>, before it is retained or dropped.</param>
    public ObjectPool(Func<T> factory, int maxRetained, Action<T>? reset = null)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetained);
        _factory = factory;
        _reset = reset;
        _maxRetained = maxRetained;
        _items = new T?[Math.Min(maxRetained, InitialSize)];
    }

    /// <summary>The most objects kept for reuse.</summary>
    public int MaxRetained => _maxRetained;

    /// <summary>The number of objects retained now.</summary>
    public int Retained => Volatile.Read(ref _count);

    /// <summary>Takes a retained object, or creates one with the factory when none is retained.</summary>
    /// <exception cref="InvalidOperationException">The factory returned null.</exception>
    public T Get()
    {
        lock (_lock)
        {
            if (_count > 0)
            {
                int top = --_count;
                T item = _items[top]!;
                _items[top] = null;
                return item;
            }
        }

        return _factory() ?? ThrowFactoryReturnedNull();
    }

    /// <summary>Resets <paramref name="item"/> and retains it, or drops it when <see cref="MaxRetained"/>
    /// objects are already retained. When the reset action throws, the object is dropped and the exception
    /// propagates.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="item"/> is null.</exception>
    public void Put(T item)
    {
        ArgumentNullException.ThrowIfNull(item);
        _reset?.Invoke(item);

        lock (_lock)
        {
            if (_count == _maxRetained)
                return;
            if (_count == _items.Length)
                _items = Grow(_items, _maxRetained);
            _items[_count++] = item;
        }
    }

    private static T?[] Grow(T?[] items, int max)
    {
        var grown = new T?[(int)Math.Min(2L * items.Length, max)];
        Array.Copy(items, grown, items.Length);
        return grown;
    }

    [DoesNotReturn]
    private static T ThrowFactoryReturnedNull() =>
        throw new InvalidOperationException($"The factory of ObjectPool<{typeof(T).Name}> returned null.");
}
