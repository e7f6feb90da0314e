using WsGen.Reactor;

namespace WsGen.Tests.Reactor;

public sealed class ConnectionTableTests
{
    private const int Page = ConnectionTable<object>.PageSize;

    [Fact]
    public void Slots_read_back_what_was_stored_and_null_elsewhere()
    {
        var table = new ConnectionTable<string>();
        Assert.Null(table[0]);
        Assert.Null(table[int.MaxValue]);
        Assert.Null(table[-1]);

        table[0] = "first";
        table[Page - 1] = "end of page 0";
        table[Page] = "start of page 1";
        table[100 * Page + 7] = "far";

        Assert.Equal("first", table[0]);
        Assert.Equal("end of page 0", table[Page - 1]);
        Assert.Equal("start of page 1", table[Page]);
        Assert.Equal("far", table[100 * Page + 7]);
        Assert.Null(table[1]);
        Assert.Null(table[100 * Page + 6]);
        Assert.Null(table[50 * Page]);

        table[0] = null;
        Assert.Null(table[0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => table[-1] = "negative");
    }

    [Fact]
    public void Pages_are_allocated_only_for_the_slots_used()
    {
        var table = new ConnectionTable<string>();
        table[3] = "a";
        table[5] = "b";
        Assert.Equal(1, table.PageCount);

        // A far slot (a high descriptor number) takes one page, not every page before it.
        table[1000 * Page] = "c";
        Assert.Equal(2, table.PageCount);

        // Clearing a slot that was never allocated allocates nothing.
        table[2000 * Page] = null;
        table[500 * Page] = null;
        Assert.Equal(2, table.PageCount);

        table.Clear();
        Assert.Equal(0, table.PageCount);
        Assert.Null(table[3]);
        Assert.Null(table[1000 * Page]);
    }

    [Fact]
    public void ForEach_visits_every_connection_in_slot_order_and_may_clear_slots()
    {
        var table = new ConnectionTable<string>();
        int[] slots = [2, 0, Page + 1, 7 * Page, Page - 1];
        foreach (int slot in slots)
            table[slot] = "s" + slot;

        var seen = new List<string>();
        table.ForEach(table, (t, conn) =>
        {
            seen.Add(conn);
            t[int.Parse(conn[1..])] = null;   // as Finish does while the loop aborts everything
        });

        Assert.Equal(slots.Order().Select(s => "s" + s), seen);
        foreach (int slot in slots)
            Assert.Null(table[slot]);
    }
}
