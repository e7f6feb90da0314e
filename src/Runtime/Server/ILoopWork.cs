namespace WsGen.Server;

/// <summary>Work handed to the loop thread from another thread.</summary>
internal interface ILoopWork
{
    void Run();
}
