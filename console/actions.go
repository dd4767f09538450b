package console

func (c *Console) actionRoutes() {}
