package db_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/vecbolt/vecbolt/db"
)

// TestCheckDuringWrites runs Check while another goroutine commits: the
// page walk and bbolt's freelist check must see one state of the file, or
// pages a commit frees while the check runs look "reachable freed" and the
// check reports damage that is not there (as the background recall
// measurement's commits made TestCompactTo's check do).
func TestCheckDuringWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.vecbolt")
	d, err := db.Open(path, db.WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c, err := d.CreateCollection(bg, "c", db.WithDimension(16))
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			id := fmt.Sprint(i % 300)
			if _, err := c.Upsert(bg, db.Document{ID: id, Vector: vec(i, 16)}); err != nil {
				t.Error(err)
				return
			}
			if i%3 == 0 {
				if _, err := c.Delete(bg, fmt.Sprint((i/3)%300)); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	for range 40 {
		rep, err := d.Check(bg, db.WithCheckSample(0))
		if err != nil {
			t.Fatal(err)
		}
		if rep.FileDamaged {
			t.Errorf("Check during writes reports the file damaged: %v", rep.Problems)
			break
		}
	}
	close(stop)
	wg.Wait()
}
