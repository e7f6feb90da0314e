Console.WriteLine("echo placeholder");
