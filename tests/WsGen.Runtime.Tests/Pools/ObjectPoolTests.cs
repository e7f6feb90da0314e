namespace WsGen.Tests.Pools;

public class ObjectPoolTests
{
    private sealed class Item
    {
        public int Value;
        public int Resets;
        public int Holders;
    }

    [Fact]
    public void Get_CreatesWithTheFactory_WhenNothingIsRetained()
    {
        int created = 0;
        var pool = new ObjectPool<Item>(() => { created++; return new Item(); }, maxRetained: 4);

        var a = pool.Get();
        var b = pool.Get();

        Assert.NotSame(a, b);
        Assert.Equal(2, created);
    }

    [Fact]
    public void PutThenGet_ReusesTheObject_AndResetsIt()
    {
        int created = 0;
        var pool = new ObjectPool<Item>(() => { created++; return new Item(); }, maxRetained: 4,
            reset: item => { item.Value = 0; item.Resets++; });
        var item = pool.Get();
        item.Value = 42;

        pool.Put(item);
        var again = pool.Get();

        Assert.Same(item, again);
        Assert.Equal(0, again.Value);
        Assert.Equal(1, again.Resets);
        Assert.Equal(1, created);
    }

    [Fact]
    public void Put_RetainsAtMostMaxRetained_AndDropsTheRest()
    {
        int created = 0;
        var pool = new ObjectPool<Item>(() => { created++; return new Item(); }, maxRetained: 3);
        var items = Enumerable.Range(0, 5).Select(_ => pool.Get()).ToList();

        foreach (var item in items)
            pool.Put(item);

        Assert.Equal(3, pool.Retained);
        var reused = new[] { pool.Get(), pool.Get(), pool.Get() };
        Assert.Equal(3, reused.Distinct().Count());
        Assert.All(reused, r => Assert.Contains(r, items.Take(3)));
        Assert.Equal(5, created);

        var fresh = pool.Get();
        Assert.DoesNotContain(fresh, items);
        Assert.Equal(6, created);
    }

    [Fact]
    public void Put_StillResets_AnObjectItDrops()
    {
        var pool = new ObjectPool<Item>(() => new Item(), maxRetained: 0, reset: item => item.Resets++);
        var item = pool.Get();

        pool.Put(item);

        Assert.Equal(1, item.Resets);
        Assert.Equal(0, pool.Retained);
        Assert.NotSame(item, pool.Get());
    }

    [Fact]
    public void Retains_ManyObjects_BeyondItsInitialArray()
    {
        var pool = new ObjectPool<Item>(() => new Item(), maxRetained: 100);
        var items = Enumerable.Range(0, 70).Select(_ => pool.Get()).ToList();

        items.ForEach(pool.Put);

        Assert.Equal(70, pool.Retained);
        var back = Enumerable.Range(0, 70).Select(_ => pool.Get()).ToHashSet();
        Assert.True(back.SetEquals(items));
    }

    [Fact]
    public void PutNull_ThrowsArgumentNullException()
    {
        var pool = new ObjectPool<Item>(() => new Item(), maxRetained: 2);
        Assert.Throws<ArgumentNullException>(() => pool.Put(null!));
        Assert.Equal(0, pool.Retained);
    }

    [Fact]
    public void Constructor_RejectsBadArguments_AndGetRejectsANullFromTheFactory()
    {
        Assert.Throws<ArgumentNullException>(() => new ObjectPool<Item>(null!, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ObjectPool<Item>(() => new Item(), -1));
        var pool = new ObjectPool<Item>(() => null!, 1);
        Assert.Throws<InvalidOperationException>(() => pool.Get());
    }

    [Fact]
    public void GetAndPut_AllocateNothing_OnceWarm()
    {
        var pool = new ObjectPool<Item>(() => new Item(), maxRetained: 8, reset: static item => item.Value = 0);
        for (int i = 0; i < 1_000; i++)
            pool.Put(pool.Get());

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100_000; i++)
        {
            var item = pool.Get();
            pool.Put(item);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }

    [Fact]
    public void ConcurrentGetAndPut_NeverShareAnObject()
    {
        int created = 0;
        var pool = new ObjectPool<Item>(() => { Interlocked.Increment(ref created); return new Item(); }, maxRetained: 16);
        int failures = 0;
        var workers = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            for (int i = 0; i < 20_000; i++)
            {
                var item = pool.Get();
                if (Interlocked.Increment(ref item.Holders) != 1)
                    Interlocked.Increment(ref failures);
                Interlocked.Decrement(ref item.Holders);
                pool.Put(item);
            }
        })).ToList();

        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());

        Assert.Equal(0, failures);
        // A new object is made only when every existing one is held, and each thread holds at most one.
        Assert.InRange(created, 1, 4);
        Assert.Equal(created, pool.Retained);
    }
}
